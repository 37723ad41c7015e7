//! Compliance within one call: which required statements were made, when, by whom, in which
//! words.
//!
//! Items are matched on what speech recognition writes, not on fixed text. Patterns run on
//! folded text (case, width, script and punctuation do not matter). Registration numbers are
//! compared as digit sequences: Chinese numerals read digit by digit (二零一九, 〇, 幺) and English
//! digit words become digits, and spaces or punctuation between digits are skipped, so
//! 国械注准20193060100, "2019 306 0100" and 二零一九三零六零一零零 all count, while a number
//! with any digit wrong, missing or added does not. Numbers read as quantities ("两千零一十九")
//! are not understood: nobody reads a registration number that way.
//!
//! A statement counts when the rep (or a speaker not known) makes it: the customer reading the
//! number aloud does not discharge the rep's duty.

use super::playbook::{Applies, ComplianceItem, Playbook};
use super::ComplianceResult;
use crate::nlu::text;
use crate::{CallUtterance, Speaker};

/// A product of the catalogue as the coach sees it.
#[derive(Debug, Clone)]
pub(crate) struct CatalogueProduct {
    pub id: String,
    /// Its names as written (Chinese, English).
    pub names: Vec<String>,
    pub registration_no: Option<String>,
}

/// Matches one registration number in text whose numerals were turned into digits.
#[derive(Debug)]
struct NumberMatcher {
    re: regex::Regex,
}

impl NumberMatcher {
    /// A matcher for the digits of `number`; none when it has fewer than six digits.
    fn new(number: &str) -> Option<NumberMatcher> {
        let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
        if digits.len() < 6 {
            return None;
        }
        let body: Vec<String> = digits.iter().map(char::to_string).collect();
        let re = regex::Regex::new(&body.join(r"[\s|]*")).ok()?;
        Some(NumberMatcher { re })
    }

    /// True when the number occurs with no further digit just before or after it.
    fn found(&self, digits: &str) -> bool {
        self.re.find_iter(digits).any(|m| {
            let before = digits.get(..m.start()).and_then(|s| s.chars().next_back());
            let after = digits.get(m.end()..).and_then(|s| s.chars().next());
            !before.is_some_and(|c| c.is_ascii_digit())
                && !after.is_some_and(|c| c.is_ascii_digit())
        })
    }
}

/// Folded text with numerals read digit by digit turned into ASCII digits.
pub(crate) fn spoken_digits(folded: &str) -> String {
    let mapped: String = folded
        .chars()
        .map(|c| match c {
            '零' | '〇' => '0',
            '一' | '幺' => '1',
            '二' => '2',
            '三' => '3',
            '四' => '4',
            '五' => '5',
            '六' => '6',
            '七' => '7',
            '八' => '8',
            '九' => '9',
            other => other,
        })
        .collect();
    mapped
        .split(' ')
        .map(|word| match word {
            "zero" | "oh" => "0",
            "one" => "1",
            "two" => "2",
            "three" => "3",
            "four" => "4",
            "five" => "5",
            "six" => "6",
            "seven" => "7",
            "eight" => "8",
            "nine" => "9",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Where an item was satisfied.
#[derive(Debug, Clone)]
struct Hit {
    at_s: f64,
    quote: String,
    speaker: Option<Speaker>,
}

#[derive(Debug, Clone)]
struct ItemState {
    applies: bool,
    hit: Option<Hit>,
    alerted: bool,
}

/// The compliance of one call so far.
#[derive(Debug)]
pub(crate) struct Tracker {
    numbers: Vec<NumberMatcher>,
    /// Folded names (and ids) of the catalogue's products, by product id.
    names: Vec<(String, Vec<String>)>,
    items: Vec<ItemState>,
    /// Rep utterances, and those that carried a compliance phrase.
    rep_utterances: u32,
    rep_phrases: u32,
}

impl Tracker {
    /// A tracker for a call whose catalogue is `catalogue`.
    pub(crate) fn new(playbook: &Playbook, catalogue: &[CatalogueProduct]) -> Tracker {
        let numbers = catalogue
            .iter()
            .filter_map(|p| NumberMatcher::new(p.registration_no.as_deref()?))
            .collect();
        let names = catalogue
            .iter()
            .map(|p| {
                let mut folded: Vec<String> = p.names.iter().map(|n| text::fold(n)).collect();
                folded.push(text::fold(&p.id));
                folded.retain(|n| !n.is_empty());
                (p.id.clone(), folded)
            })
            .collect();
        let items = playbook
            .compliance
            .iter()
            .map(|item| ItemState {
                applies: item.applies == Applies::All,
                hit: None,
                alerted: false,
            })
            .collect();
        Tracker {
            numbers,
            names,
            items,
            rep_utterances: 0,
            rep_phrases: 0,
        }
    }

    /// Reads one utterance; returns the indexes of the items it satisfied first.
    pub(crate) fn observe(
        &mut self,
        playbook: &Playbook,
        u: &CallUtterance,
        folded: &str,
    ) -> Vec<usize> {
        let mentioned = self.mentioned(folded);
        let by_rep = u.speaker != Some(Speaker::Customer);
        let digits = spoken_digits(folded);
        let mut first = Vec::new();
        let mut any_phrase = false;
        for (index, item) in playbook.compliance.iter().enumerate() {
            let Some(state) = self.items.get_mut(index) else {
                continue;
            };
            if let Applies::Products(ids) = &item.applies {
                state.applies |= ids.iter().any(|id| mentioned.contains(id));
            }
            if !by_rep || !said(item, &self.numbers, folded, &digits) {
                continue;
            }
            any_phrase = true;
            if state.hit.is_none() {
                state.hit = Some(Hit {
                    at_s: u.start_s,
                    quote: u.text.clone(),
                    speaker: u.speaker,
                });
                first.push(index);
            }
        }
        if u.speaker == Some(Speaker::Rep) {
            self.rep_utterances += 1;
            self.rep_phrases += u32::from(any_phrase);
        }
        first
    }

    fn mentioned(&self, folded: &str) -> Vec<String> {
        self.names
            .iter()
            .filter(|(_, names)| names.iter().any(|n| !text::find_all(folded, n).is_empty()))
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Items that apply, are not yet said and whose deadline `now_s` has passed; each is
    /// returned once per call.
    pub(crate) fn overdue(&mut self, playbook: &Playbook, now_s: f64) -> Vec<usize> {
        let mut out = Vec::new();
        for (index, item) in playbook.compliance.iter().enumerate() {
            let Some(state) = self.items.get_mut(index) else {
                continue;
            };
            let late = item.due_by_s.is_some_and(|due| now_s > due);
            if late && state.applies && state.hit.is_none() && !state.alerted {
                state.alerted = true;
                out.push(index);
            }
        }
        out
    }

    /// The result of one item, in `language` for its description.
    pub(crate) fn result(
        &self,
        playbook: &Playbook,
        index: usize,
        language: &str,
    ) -> Option<ComplianceResult> {
        let item = playbook.compliance.get(index)?;
        let hit = self.items.get(index)?.hit.as_ref();
        Some(ComplianceResult {
            item: item.id.clone(),
            description: describe(item, language),
            satisfied: hit.is_some(),
            at_s: hit.map(|h| h.at_s),
            quote: hit.map(|h| h.quote.clone()),
            speaker: hit.and_then(|h| h.speaker),
        })
    }

    /// The results of every item that applies to the call, in playbook order.
    pub(crate) fn results(&self, playbook: &Playbook, language: &str) -> Vec<ComplianceResult> {
        (0..playbook.compliance.len())
            .filter(|&i| self.items.get(i).is_some_and(|s| s.applies))
            .filter_map(|i| self.result(playbook, i, language))
            .collect()
    }

    /// The share of the rep's utterances that carried a compliance phrase; none without any.
    pub(crate) fn phrase_share(&self) -> Option<f32> {
        (self.rep_utterances > 0).then(|| self.rep_phrases as f32 / self.rep_utterances as f32)
    }
}

fn said(item: &ComplianceItem, numbers: &[NumberMatcher], folded: &str, digits: &str) -> bool {
    if item.patterns.iter().any(|re| re.is_match(folded)) {
        return true;
    }
    item.catalogue_numbers && numbers.iter().any(|n| n.found(digits))
}

/// An item's description in the call's language (Chinese for `zh`, else English).
pub(crate) fn describe(item: &ComplianceItem, language: &str) -> String {
    if language == "zh" {
        item.description.zh.clone()
    } else {
        item.description.en.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Classification, Evidence, EvidenceSource};

    pub(crate) fn utterance(seq: u32, speaker: Option<Speaker>, text: &str) -> CallUtterance {
        CallUtterance {
            seq,
            start_s: seq as f64 * 5.0,
            end_s: seq as f64 * 5.0 + 4.0,
            speaker,
            text: text.to_string(),
            classification: Classification {
                text: text.to_string(),
                speaker,
                intent: "other".into(),
                objection: None,
                confidence: 1.0,
                evidence: Evidence {
                    source: EvidenceSource::Fallback,
                    text: String::new(),
                    similarity: None,
                },
                lexicon_version: "test".into(),
            },
        }
    }

    fn catalogue() -> Vec<CatalogueProduct> {
        vec![CatalogueProduct {
            id: "US-M7".into(),
            names: vec![
                "便携式彩色超声诊断仪".into(),
                "Portable colour ultrasound system".into(),
            ],
            registration_no: Some("国械注准20193060100".into()),
        }]
    }

    fn registration_said(text: &str) -> bool {
        let playbook = Playbook::default_playbook().unwrap();
        let mut tracker = Tracker::new(&playbook, &catalogue());
        let u = utterance(0, Some(Speaker::Rep), text);
        let first = tracker.observe(&playbook, &u, &text::fold(text));
        first
            .iter()
            .any(|&i| playbook.compliance[i].id == "registration_no")
    }

    #[test]
    fn registration_numbers_match_as_spoken_and_wrong_ones_do_not() {
        for said in [
            "注册证号是国械注准20193060100",
            "注册证号：国械注准二零一九三零六零一零零",
            "国械注准二〇一九三〇六〇一〇〇，您可以查",
            "the registration number is 2019 306 0100",
            "number 2019-306-0100.",
            "國械註准 20193060100",
            "二零一九，三零六，零一零零",
            "二零一九三零六零幺零零",
            "two zero one nine three zero six zero one zero zero",
            "注册证号２０１９３０６０１００",
        ] {
            assert!(registration_said(said), "not matched: {said}");
        }
        for wrong in [
            "国械注准20193060101",
            "国械注准2019306010",
            "国械注准201930601000",
            "二零一九三零六零一零一",
            "the price is 20,193 yuan for 60 units",
            "注册证号我回头发给您",
        ] {
            assert!(!registration_said(wrong), "matched: {wrong}");
        }
    }

    #[test]
    fn the_customer_reading_the_number_does_not_count() {
        let playbook = Playbook::default_playbook().unwrap();
        let mut tracker = Tracker::new(&playbook, &catalogue());
        let text = "你们的注册证号是20193060100吗";
        let u = utterance(0, Some(Speaker::Customer), text);
        assert!(tracker.observe(&playbook, &u, &text::fold(text)).is_empty());
    }

    #[test]
    fn recording_notice_and_quote_validity_match_their_wordings() {
        let playbook = Playbook::default_playbook().unwrap();
        let hits = |text: &str| {
            let mut tracker = Tracker::new(&playbook, &[]);
            let u = utterance(0, Some(Speaker::Rep), text);
            tracker
                .observe(&playbook, &u, &text::fold(text))
                .iter()
                .map(|&i| playbook.compliance[i].id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(hits("您好，本次通话录音"), ["recording_notice"]);
        assert_eq!(hits("提醒您一下，这次通话会被录音。"), ["recording_notice"]);
        assert_eq!(
            hits("Just so you know, this call is being recorded."),
            ["recording_notice"]
        );
        assert_eq!(hits("这个报价有效期是三十天"), ["quote_validity"]);
        assert_eq!(hits("The quote is valid for 30 days."), ["quote_validity"]);
        assert_eq!(
            hits("our offer is valid until the end of the month"),
            ["quote_validity"]
        );
        assert!(hits("我们下周再通话").is_empty());
        assert!(hits("the price is fair").is_empty());
    }

    #[test]
    fn an_overdue_item_is_reported_once() {
        let playbook = Playbook::default_playbook().unwrap();
        let mut tracker = Tracker::new(&playbook, &[]);
        assert!(tracker.overdue(&playbook, 30.0).is_empty());
        let late = tracker.overdue(&playbook, 61.0);
        assert_eq!(late.len(), 1);
        assert_eq!(playbook.compliance[late[0]].id, "recording_notice");
        assert!(tracker.overdue(&playbook, 90.0).is_empty());
    }
}
