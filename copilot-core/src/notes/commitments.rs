//! Commitments (who promised what, by when), next steps, and the call's follow-up date.
//!
//! An utterance is a commitment when the classifier gave it the commitment intent, and a next
//! step when it gave it the next-step intent or when it names a date together with a meeting
//! or contact word ("下周五再联系", "let's meet on the 15th"). The due date is the last date the
//! utterance says (people correct themselves forward: "not Friday, next Monday").
//!
//! The follow-up date is the next contact agreed: the last date, on or after the call's day,
//! that an utterance sets beside a contact word ("I'll call you tomorrow", "下周三再跟您电话确认");
//! when an utterance names several dates, the one in the clause with the contact word ("我月底前
//! 给您答复，试用机这周四送过去" is the end of the month). A next step's date counts as well
//! ("改到下周一吧"), so a later correction wins. With neither, it is the date of the last
//! commitment that has one. When the call names different
//! dates for it, the one said last wins and the note records the conflict.

use super::dates::find_dates;
use super::{intents, quote, NoteAction, NoteConflict, MAX_ITEMS};
use crate::nlu::text::{find_all, fold};
use crate::CallUtterance;
use chrono::NaiveDate;

/// Words that, beside a date, make an utterance a next step.
const NEXT_STEP_CUES: &[&str] = &[
    "follow up",
    "followup",
    "touch base",
    "get back to",
    "call you",
    "call me",
    "meet",
    "meeting",
    "demo",
    "visit",
    "talk again",
    "speak again",
    "reconnect",
    "catch up",
    "check in",
    "schedule",
    "circle back",
    "联系",
    "跟进",
    "回访",
    "拜访",
    "演示",
    "见面",
    "开会",
    "再聊",
    "再谈",
    "碰一下",
    "约",
    "答复",
    "回复",
];

/// Words that make a date the date of the next contact (a call, a meeting, an answer).
const CONTACT_CUES: &[&str] = &[
    "follow up",
    "get back to",
    "call you",
    "call me",
    "give you a call",
    "call back",
    "meet",
    "meeting",
    "visit",
    "speak",
    "talk again",
    "reconnect",
    "catch up",
    "check in",
    "circle back",
    "联系",
    "跟进",
    "回访",
    "拜访",
    "见面",
    "再聊",
    "再谈",
    "电话",
    "回电",
    "答复",
    "回复",
];

/// What separates the clauses of an utterance.
const CLAUSE_MARKS: &[char] = &[',', '，', '。', ';', '；', '.', '!', '！', '?', '？'];

/// What the call settled about who does what next.
#[derive(Debug, Default)]
pub(crate) struct Actions {
    pub commitments: Vec<NoteAction>,
    pub next_steps: Vec<NoteAction>,
    /// The positions (in the utterance list) of the utterances that carried them.
    pub positions: Vec<usize>,
    pub follow_up: Option<NaiveDate>,
    pub conflict: Option<NoteConflict>,
}

/// Reads the commitments and next steps of a call whose local date is `today`.
pub(crate) fn find_actions(utterances: &[CallUtterance], today: NaiveDate) -> Actions {
    let mut actions = Actions::default();
    let mut commitment_dates = Vec::new();
    let mut follow_dates = Vec::new();
    for (i, u) in utterances.iter().enumerate() {
        let contact = contact_date(&u.text, today).filter(|_| !is_objection(u));
        let intent = u.classification.intent.as_str();
        let is_commitment = intent == intents::COMMITMENT;
        let dates = find_dates(&u.text, today);
        let due = dates.last().map(|m| m.date);
        let is_next_step = intent == intents::NEXT_STEP
            || (!is_commitment && due.is_some() && has_next_step_cue(&u.text) && !is_objection(u));
        follow_dates.extend(contact);
        if !is_commitment && !is_next_step {
            continue;
        }
        let action = NoteAction {
            who: u.speaker,
            what: quote(&u.text),
            due_date: due.map(|d| d.to_string()),
            at_s: u.start_s,
        };
        let list = if is_commitment {
            commitment_dates.extend(due);
            &mut actions.commitments
        } else {
            follow_dates.extend(contact.is_none().then_some(due).flatten());
            &mut actions.next_steps
        };
        if list.len() < MAX_ITEMS {
            list.push(action);
            actions.positions.push(i);
        }
    }
    let said = [follow_dates, commitment_dates]
        .into_iter()
        .find(|dates| !dates.is_empty())
        .unwrap_or_default();
    actions.follow_up = said.last().copied();
    actions.conflict = conflict(&said);
    actions
}

fn is_objection(u: &CallUtterance) -> bool {
    u.classification.objection.is_some()
}

fn has_next_step_cue(text: &str) -> bool {
    has_cue(text, NEXT_STEP_CUES)
}

fn has_cue(text: &str, cues: &[&str]) -> bool {
    let folded = fold(text);
    cues.iter().any(|cue| !find_all(&folded, cue).is_empty())
}

/// The date an utterance sets for the next contact, if it names a contact and a date on or
/// after `today`: the last such date in a clause with the contact word, else its last date.
fn contact_date(text: &str, today: NaiveDate) -> Option<NaiveDate> {
    if !has_cue(text, CONTACT_CUES) {
        return None;
    }
    let ahead = |t: &str| {
        find_dates(t, today)
            .into_iter()
            .map(|m| m.date)
            .rfind(|d| *d >= today)
    };
    text.split(CLAUSE_MARKS)
        .filter(|clause| has_cue(clause, CONTACT_CUES))
        .rev()
        .find_map(ahead)
        .or_else(|| ahead(text))
}

/// The conflict among the follow-up dates said, if more than one distinct date was said.
fn conflict(said: &[NaiveDate]) -> Option<NoteConflict> {
    let kept = *said.last()?;
    let mut dropped: Vec<String> = Vec::new();
    for date in said.iter().filter(|d| **d != kept) {
        let date = date.to_string();
        if !dropped.contains(&date) {
            dropped.push(date);
        }
    }
    (!dropped.is_empty()).then(|| NoteConflict {
        field: "follow_up_date".into(),
        kept: kept.to_string(),
        dropped,
        rule: "the date said last wins".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::{line, wednesday};
    use super::*;
    use crate::Speaker::{Customer, Rep};

    #[test]
    fn commitments_with_due_dates_in_chinese() {
        let call = [
            line(0, Some(Rep), "我明天把报价单发给您", "commitment", None),
            line(
                1,
                Some(Customer),
                "好的，那我们下周五再约个时间演示",
                "next_step",
                None,
            ),
        ];
        let actions = find_actions(&call, wednesday());
        assert_eq!(actions.commitments.len(), 1);
        assert_eq!(actions.commitments[0].who, Some(Rep));
        assert_eq!(
            actions.commitments[0].due_date.as_deref(),
            Some("2026-12-03")
        );
        assert_eq!(
            actions.next_steps[0].due_date.as_deref(),
            Some("2026-12-11")
        );
        assert_eq!(
            actions.follow_up.map(|d| d.to_string()).as_deref(),
            Some("2026-12-11")
        );
        assert!(actions.conflict.is_none());
    }

    #[test]
    fn a_next_step_found_by_its_words_in_english() {
        let call = [
            line(
                0,
                Some(Rep),
                "I'll send the contract by the end of the month",
                "commitment",
                None,
            ),
            line(
                1,
                Some(Customer),
                "Sure, let's touch base next Tuesday",
                "agreement",
                None,
            ),
            line(2, Some(Customer), "Friday I'm busy", "other", None),
        ];
        let actions = find_actions(&call, wednesday());
        assert_eq!(actions.next_steps.len(), 1);
        assert_eq!(actions.next_steps[0].who, Some(Customer));
        assert_eq!(
            actions.follow_up.map(|d| d.to_string()).as_deref(),
            Some("2026-12-08")
        );
        assert_eq!(actions.positions, [0, 1]);
    }

    #[test]
    fn contradictory_follow_up_dates_keep_the_last_and_say_so() {
        let call = [
            line(0, Some(Rep), "let's meet next Friday", "next_step", None),
            line(
                1,
                Some(Customer),
                "next Friday is bad, let's meet on the 15th",
                "next_step",
                None,
            ),
            line(
                2,
                Some(Rep),
                "ok, we meet on the 15th then",
                "next_step",
                None,
            ),
        ];
        let actions = find_actions(&call, wednesday());
        assert_eq!(
            actions.follow_up.map(|d| d.to_string()).as_deref(),
            Some("2026-12-15")
        );
        let conflict = actions
            .conflict
            .unwrap_or_else(|| panic!("no conflict recorded"));
        assert_eq!(conflict.kept, "2026-12-15");
        assert_eq!(conflict.dropped, ["2026-12-11"]);
    }

    #[test]
    fn unresolvable_dates_leave_the_due_date_empty() {
        let call = [
            line(
                0,
                Some(Rep),
                "I'll send it over sometime soon",
                "commitment",
                None,
            ),
            line(1, None, "过几天再联系", "next_step", None),
        ];
        let actions = find_actions(&call, wednesday());
        assert_eq!(actions.commitments[0].due_date, None);
        assert_eq!(actions.next_steps[0].who, None);
        assert_eq!(actions.follow_up, None);
    }

    #[test]
    fn a_timing_objection_with_a_date_is_no_next_step() {
        let call = [line(
            0,
            Some(Customer),
            "we can't meet before next month",
            "objection",
            Some("timing"),
        )];
        assert!(find_actions(&call, wednesday()).next_steps.is_empty());
    }
}
