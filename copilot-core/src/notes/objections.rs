//! The objections of a call, and whether and how the other side answered each.
//!
//! An objection is an utterance of the customer (or of an unknown speaker) that the classifier
//! labelled with an objection type; of the rep's utterances only a final-price stance counts,
//! since a rep's "it's still a bit up in the air" describes the customer's situation, not an
//! objection to the deal. A customer who says the same objection again before the rep speaks
//! raised it once. It is answered when the other speaker says
//! something after it and before the next objection; the answer is their first turn after it
//! (their next utterances until the objection's speaker talks again), shortened.
//! When the objection's speaker is unknown (mono audio), the next utterance before the next
//! objection counts as the answer, since nothing tells the sides apart.

use super::{shorten, NoteObjection, ANSWER_CHARS, MAX_ITEMS};
use crate::{CallUtterance, Speaker};

/// The most utterances of the other side's turn an answer quotes.
const ANSWER_UTTERANCES: usize = 2;

/// The objections found, and the positions of the utterances that answered them.
#[derive(Debug, Default)]
pub(crate) struct Objections {
    pub list: Vec<NoteObjection>,
    pub answer_positions: Vec<usize>,
}

/// Reads the objections of a call in order.
pub(crate) fn find_objections(utterances: &[CallUtterance]) -> Objections {
    let raised = raised(utterances);
    let mut found = Objections::default();
    for (n, &at) in raised.iter().enumerate() {
        let until = raised.get(n + 1).copied().unwrap_or(utterances.len());
        let window = utterances.get(at + 1..until).unwrap_or_default();
        let raiser = utterances.get(at).map(|u| u.speaker).unwrap_or_default();
        let answers: Vec<usize> = window
            .iter()
            .enumerate()
            .skip_while(|(_, u)| !answers_side(raiser, u.speaker))
            .take_while(|(_, u)| answers_side(raiser, u.speaker))
            .map(|(k, _)| at + 1 + k)
            .take(ANSWER_UTTERANCES)
            .collect();
        if let Some(objection) = utterances
            .get(at)
            .map(|u| objection(u, utterances, &answers))
        {
            found.list.push(objection);
            found.answer_positions.extend(answers.first());
        }
    }
    found
}

/// The positions of the utterances that raise an objection, repeats left out.
fn raised(utterances: &[CallUtterance]) -> Vec<usize> {
    let mut raised: Vec<usize> = Vec::new();
    for (i, u) in utterances.iter().enumerate() {
        let Some(kind) = u.classification.objection.as_deref() else {
            continue;
        };
        if u.speaker == Some(Speaker::Rep) && kind != FINAL_PRICE {
            continue;
        }
        let repeat = raised.last().is_some_and(|&last| {
            let same = utterances[last].classification.objection.as_deref() == Some(kind);
            let between = utterances.get(last + 1..i).unwrap_or_default();
            same && !between.iter().any(|b| answers_side(u.speaker, b.speaker))
        });
        if !repeat {
            raised.push(i);
        }
        if raised.len() == MAX_ITEMS {
            break;
        }
    }
    raised
}

/// The objection type of a final-price stance, the one a rep can take too.
const FINAL_PRICE: &str = "price_final";

/// True when an utterance by `speaker` can answer an objection raised by `raiser`.
fn answers_side(raiser: Option<Speaker>, speaker: Option<Speaker>) -> bool {
    match raiser {
        Some(Speaker::Rep) => speaker == Some(Speaker::Customer),
        Some(Speaker::Customer) => speaker == Some(Speaker::Rep),
        None => true,
    }
}

fn objection(u: &CallUtterance, all: &[CallUtterance], answers: &[usize]) -> NoteObjection {
    let answer = answers
        .iter()
        .filter_map(|&i| all.get(i))
        .map(|a| a.text.trim())
        .collect::<Vec<_>>()
        .join(" ");
    NoteObjection {
        kind: u.classification.objection.clone().unwrap_or_default(),
        quote: super::quote(&u.text),
        at_s: u.start_s,
        speaker: u.speaker,
        answered: !answers.is_empty(),
        answer: (!answers.is_empty()).then(|| shorten(&answer, ANSWER_CHARS)),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::line;
    use super::*;
    use crate::Speaker::{Customer, Rep};

    #[test]
    fn a_customer_objection_answered_by_the_rep() {
        let call = [
            line(
                0,
                Some(Customer),
                "价格太贵了",
                "objection",
                Some("price_too_high"),
            ),
            line(
                1,
                Some(Customer),
                "别家便宜很多",
                "objection",
                Some("competitor"),
            ),
            line(2, Some(Rep), "我们的售后是免费的，三年保修", "other", None),
            line(3, Some(Rep), "而且可以分期付款", "other", None),
            line(4, Some(Rep), "还有培训", "other", None),
        ];
        let found = find_objections(&call);
        assert_eq!(found.list.len(), 2);
        assert!(
            !found.list[0].answered,
            "the next objection came before any answer"
        );
        assert_eq!(found.list[1].kind, "competitor");
        assert!(found.list[1].answered);
        assert_eq!(
            found.list[1].answer.as_deref(),
            Some("我们的售后是免费的，三年保修 而且可以分期付款")
        );
        assert_eq!(found.answer_positions, [2]);
    }

    #[test]
    fn a_rep_stance_is_answered_by_the_customer() {
        let call = [
            line(
                0,
                Some(Rep),
                "This is our final price, we can't go any lower.",
                "objection",
                Some("price_final"),
            ),
            line(1, Some(Rep), "It already includes training.", "other", None),
            line(
                2,
                Some(Customer),
                "Okay, let me talk to my boss.",
                "other",
                None,
            ),
        ];
        let found = find_objections(&call);
        assert_eq!(found.list[0].speaker, Some(Rep));
        assert_eq!(
            found.list[0].answer.as_deref(),
            Some("Okay, let me talk to my boss.")
        );
    }

    #[test]
    fn no_customer_speech_leaves_a_rep_stance_unanswered() {
        let call = [
            line(
                0,
                Some(Rep),
                "this is the lowest we can go",
                "objection",
                Some("price_final"),
            ),
            line(1, Some(Rep), "it's our final offer", "other", None),
        ];
        let found = find_objections(&call);
        assert!(!found.list[0].answered);
        assert_eq!(found.list[0].answer, None);
    }

    #[test]
    fn a_rep_describing_the_customer_raises_no_objection() {
        let call = [
            line(
                0,
                Some(Rep),
                "the budget is tight this year, I know",
                "objection",
                Some("budget"),
            ),
            line(1, Some(Customer), "yes it is", "other", None),
        ];
        assert!(find_objections(&call).list.is_empty());
    }

    #[test]
    fn a_customer_saying_it_again_raises_it_once() {
        let call = [
            line(
                0,
                Some(Customer),
                "too expensive",
                "objection",
                Some("price_too_high"),
            ),
            line(
                1,
                Some(Customer),
                "way over what we pay",
                "objection",
                Some("price_too_high"),
            ),
            line(2, Some(Rep), "it lasts twice as long", "other", None),
            line(
                3,
                Some(Customer),
                "still too expensive",
                "objection",
                Some("price_too_high"),
            ),
        ];
        let found = find_objections(&call);
        assert_eq!(
            found.list.len(),
            2,
            "the rep spoke between the second and third"
        );
        assert!(found.list[0].answered);
    }

    #[test]
    fn unknown_speakers_take_the_next_utterance_as_the_answer() {
        let call = [
            line(
                0,
                None,
                "too expensive",
                "objection",
                Some("price_too_high"),
            ),
            line(1, None, "we can offer a discount", "other", None),
        ];
        let found = find_objections(&call);
        assert!(found.list[0].answered);
        assert_eq!(found.list[0].speaker, None);
    }

    #[test]
    fn long_quotes_and_answers_are_capped() {
        let long = "太贵了".repeat(10_000);
        let call = [
            line(
                0,
                Some(Customer),
                &long,
                "objection",
                Some("price_too_high"),
            ),
            line(1, Some(Rep), &"我们可以谈".repeat(10_000), "other", None),
        ];
        let found = find_objections(&call);
        assert!(found.list[0].quote.chars().count() <= super::super::QUOTE_CHARS + 1);
        let answer = found.list[0].answer.clone().unwrap_or_default();
        assert!(answer.chars().count() <= ANSWER_CHARS + 1);
    }
}
