//! An extractive summary: the few utterances that carry the call's decisions, in the call's
//! language, each marked with who said it.
//!
//! The builder hands over the utterances that matter in order of weight: commitments and next
//! steps, then prices and discounts, then the answers that resolved objections. The summary
//! takes the first few distinct ones, puts them back in call order, shortens each and caps the
//! whole. A call with none of these (small talk only) is summarised by its longest utterances,
//! so an empty summary means an empty call. Nothing is paraphrased: every word was said.

use super::{shorten, SUMMARY_CHARS};
use crate::{CallUtterance, Speaker};

/// How many utterances a summary quotes.
const SUMMARY_UTTERANCES: usize = 5;
/// The longest one quoted utterance may be, in characters.
const SENTENCE_CHARS: usize = 120;

/// Summarises a call from the utterance positions in `weighted` (most important first).
pub(crate) fn summarize(
    utterances: &[CallUtterance],
    weighted: &[usize],
    language: &str,
) -> String {
    let mut picked: Vec<usize> = Vec::new();
    for &i in weighted {
        if picked.len() == SUMMARY_UTTERANCES {
            break;
        }
        if i < utterances.len() && !picked.contains(&i) {
            picked.push(i);
        }
    }
    if picked.is_empty() {
        picked = longest(utterances, 2);
    }
    picked.sort_unstable();
    let chinese = language.starts_with("zh");
    let sentences: Vec<String> = picked
        .iter()
        .filter_map(|&i| utterances.get(i))
        .filter(|u| !u.text.trim().is_empty())
        .map(|u| sentence(u, chinese))
        .collect();
    shorten(
        &sentences.join(if chinese { "" } else { " " }),
        SUMMARY_CHARS,
    )
}

/// The positions of the `n` longest utterances.
fn longest(utterances: &[CallUtterance], n: usize) -> Vec<usize> {
    let mut by_length: Vec<(usize, usize)> = utterances
        .iter()
        .enumerate()
        .map(|(i, u)| (u.text.trim().chars().take(SENTENCE_CHARS).count(), i))
        .filter(|(len, _)| *len > 0)
        .collect();
    by_length.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    by_length.into_iter().take(n).map(|(_, i)| i).collect()
}

/// One quoted utterance: the speaker's label, the words, closing punctuation.
fn sentence(u: &CallUtterance, chinese: bool) -> String {
    let label = match (u.speaker, chinese) {
        (Some(Speaker::Rep), true) => "销售：",
        (Some(Speaker::Customer), true) => "客户：",
        (Some(Speaker::Rep), false) => "Rep: ",
        (Some(Speaker::Customer), false) => "Customer: ",
        (None, _) => "",
    };
    let words = shorten(u.text.trim(), SENTENCE_CHARS);
    let closed = words.ends_with(['。', '！', '？', '.', '!', '?', '…']);
    let stop = match (closed, chinese) {
        (true, _) => "",
        (false, true) => "。",
        (false, false) => ".",
    };
    format!("{label}{words}{stop}")
}

#[cfg(test)]
mod tests {
    use super::super::testing::line;
    use super::*;
    use crate::Speaker::{Customer, Rep};

    #[test]
    fn decisions_in_call_order_with_speakers() {
        let call = [
            line(0, Some(Rep), "您好", "greeting", None),
            line(
                1,
                Some(Customer),
                "价格太贵了",
                "objection",
                Some("price_too_high"),
            ),
            line(2, Some(Rep), "可以打九折", "other", None),
            line(3, Some(Rep), "我明天把报价单发给您", "commitment", None),
        ];
        let summary = summarize(&call, &[3, 2], "zh");
        assert_eq!(summary, "销售：可以打九折。销售：我明天把报价单发给您。");
    }

    #[test]
    fn english_summary_and_small_talk_fallback() {
        let call = [
            line(0, Some(Rep), "Hi there", "greeting", None),
            line(
                1,
                Some(Customer),
                "Nice weather today, isn't it?",
                "small_talk",
                None,
            ),
        ];
        assert_eq!(
            summarize(&call, &[], "en"),
            "Rep: Hi there. Customer: Nice weather today, isn't it?"
        );
    }

    #[test]
    fn empty_and_huge_calls() {
        assert_eq!(summarize(&[], &[0, 5], "en"), "");
        let huge: Vec<CallUtterance> = (0..2_000)
            .map(|i| {
                line(
                    i,
                    Some(Rep),
                    &"我们下周再联系".repeat(500),
                    "next_step",
                    None,
                )
            })
            .collect();
        let weighted: Vec<usize> = (0..2_000).collect();
        let summary = summarize(&huge, &weighted, "zh");
        assert!(summary.chars().count() <= SUMMARY_CHARS + 1);
    }
}
