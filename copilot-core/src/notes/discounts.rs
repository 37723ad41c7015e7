//! Discounts said in a call, as the share taken off the price.
//!
//! Chinese states what is paid, English what is taken off: "九折" (pay 90%) is 10% off, "85折"
//! and "八五折" 15% off, "打个九五折" 5% off, "半价" half off; "15% off", "a 10 percent
//! discount", "降价5%" and "优惠百分之五" are read as said.

use super::numerals::{en_number, zh_number};
use crate::nlu::text::simplify;
use regex::{Captures, Regex};
use std::sync::OnceLock;

/// How a pattern states the discount.
#[derive(Clone, Copy)]
enum Stated {
    /// The share paid in tenths (九折, 8.5折) or hundredths (85折).
    Paid,
    /// The share taken off, in percent.
    Off,
    /// Half price.
    Half,
}

const PATTERNS: &[(&str, Stated)] = &[
    (
        r"(?P<n>\d+(?:\.\d+)?|[一二两三四五六七八九](?:点?[一二三四五六七八九])?)折",
        Stated::Paid,
    ),
    ("半价|对折", Stated::Half),
    (
        r"(?P<n>\d+(?:\.\d+)?|\b[a-z]+(?:-[a-z]+)?)\s?(?:%|percent\b|per cent\b)\s?(?:off\b|discount)",
        Stated::Off,
    ),
    (
        r"\b(?:discount|off|reduction) of (?P<n>\d+(?:\.\d+)?)\s?(?:%|percent\b)",
        Stated::Off,
    ),
    (
        r"\b(?:reduce|lower|cut|drop|knock)\w* (?:the price |it |that )?(?:down )?by (?P<n>\d+(?:\.\d+)?)\s?(?:%|percent\b)",
        Stated::Off,
    ),
    (
        r"(?:降价|降|优惠|便宜|让利|减|下调|下浮|少)了?\s?(?P<n>\d+(?:\.\d+)?)\s?%",
        Stated::Off,
    ),
    (
        "(?:降价|降|优惠|便宜|让利|减|下调|下浮|少)了?百分之(?P<n>[零一二两三四五六七八九十点]+)",
        Stated::Off,
    ),
    (
        r"(?:(?P<n>\d+(?:\.\d+)?)\s?%|百分之(?P<m>[零一二两三四五六七八九十点]+))的?(?:折扣|优惠)",
        Stated::Off,
    ),
];

fn patterns() -> &'static [(Regex, Stated)] {
    static COMPILED: OnceLock<Vec<(Regex, Stated)>> = OnceLock::new();
    COMPILED.get_or_init(|| {
        PATTERNS
            .iter()
            .filter_map(|(pattern, stated)| match Regex::new(pattern) {
                Ok(re) => Some((re, *stated)),
                Err(err) => {
                    tracing::warn!(%err, "a discount pattern does not compile and is skipped");
                    None
                }
            })
            .collect()
    })
}

/// Every discount said in `text`, in percent off (0 < x < 100), in the order said. Where
/// phrases overlap, the first and longest is read.
pub(crate) fn find_discounts(text: &str) -> Vec<f64> {
    let plain = simplify(text).to_lowercase();
    let mut spans: Vec<(usize, usize, Option<f64>)> = Vec::new();
    for (re, stated) in patterns() {
        for caps in re.captures_iter(&plain) {
            if let Some(whole) = caps.get(0) {
                spans.push((whole.start(), whole.end(), percent_off(&caps, *stated)));
            }
        }
    }
    spans.sort_by_key(|&(start, end, _)| (start, std::cmp::Reverse(end)));
    let mut found = Vec::new();
    let mut reached = 0;
    for (start, end, off) in spans {
        if start >= reached {
            reached = end;
            found.extend(off);
        }
    }
    found
}

/// Words that show a discount was talked about, said or only asked for.
const DISCOUNT_WORDS: &[&str] = &[
    "折",
    "优惠",
    "让利",
    "降价",
    "便宜点",
    "便宜一点",
    "discount",
    "off the price",
    "percent off",
    "cheaper",
    "lower the price",
];

/// True when the utterance talks about a discount, whether or not it names one.
pub(crate) fn talks_discount(text: &str) -> bool {
    let folded = crate::nlu::text::fold(text);
    DISCOUNT_WORDS
        .iter()
        .any(|w| !crate::nlu::text::find_all(&folded, w).is_empty())
}

fn percent_off(caps: &Captures, stated: Stated) -> Option<f64> {
    let off = match stated {
        Stated::Half => 50.0,
        Stated::Off => value(caps.name("n").or_else(|| caps.name("m"))?.as_str())?,
        Stated::Paid => {
            let paid = value(caps.name("n")?.as_str())?;
            100.0 - if paid < 10.0 { paid * 10.0 } else { paid }
        }
    };
    let off = (off * 100.0).round() / 100.0;
    (off > 0.0 && off < 100.0).then_some(off)
}

/// A number in digits, Chinese numerals or English words ("ten").
fn value(text: &str) -> Option<f64> {
    if let Ok(v) = text.parse::<f64>() {
        return Some(v);
    }
    let words: Vec<&str> = text.split('-').collect();
    match en_number(&words) {
        Some((v, used)) if used == words.len() => Some(v),
        _ => zh_number(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_discounts() {
        let cases = [
            ("最多九折", 10.0),
            ("85折可以", 15.0),
            ("八五折", 15.0),
            ("打个九五折吧", 5.0),
            ("8.5折", 15.0),
            ("八点五折", 15.0),
            ("降价5%", 5.0),
            ("再优惠百分之五", 5.0),
            ("给您10%的折扣", 10.0),
            ("半价", 50.0),
            ("打九折", 10.0),
        ];
        for (text, want) in cases {
            assert_eq!(find_discounts(text), [want], "{text}");
        }
    }

    #[test]
    fn english_discounts() {
        let cases = [
            ("we can do 15% off", 15.0),
            ("a 10 percent discount", 10.0),
            ("ten percent off", 10.0),
            ("a discount of 12.5%", 12.5),
            ("we could reduce the price by 8%", 8.0),
            ("a 7% discount", 7.0),
        ];
        for (text, want) in cases {
            assert_eq!(find_discounts(text), [want], "{text}");
        }
    }

    #[test]
    fn discount_talk_without_a_figure() {
        assert!(talks_discount("能打折吗"));
        assert!(talks_discount("Any discount?"));
        assert!(!talks_discount("the price is fine"));
    }

    #[test]
    fn no_discount_where_none_was_said() {
        for text in [
            "打折吗",
            "any discount?",
            "growth of 15%",
            "十折",
            "0% off",
            "折扣太少",
        ] {
            assert!(find_discounts(text).is_empty(), "{text}");
        }
    }
}
