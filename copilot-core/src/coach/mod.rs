//! Coaching the rep while the call runs: suggested replies from the playbook, the circuit
//! breaker that steps back when the rep keeps rejecting them, compliance checks with their
//! streak rule, and the call score with the customer's sentiment.
//!
//! This module uses `nlu` (labels, the encoder) and `store` (breaker and streak state, the
//! outbox); it knows no audio. The records below are shared with the note builder. A call is
//! coached by one [`call::CallCoach`], which the live session feeds with classified utterances;
//! [`Coach`] holds the playbook in force for the engine.

pub(crate) mod breaker;
pub(crate) mod call;
pub(crate) mod compliance;
pub(crate) mod playbook;
mod sentiment;
pub(crate) mod suggest;
#[cfg(test)]
mod tests;

use crate::error::Result;
use crate::Speaker;
use arc_swap::ArcSwap;
use chrono::{DateTime, FixedOffset, Utc};
use playbook::Playbook;
use std::sync::Arc;

/// Whether one required statement (a compliance item of the playbook) was made in a call.
#[derive(Debug, Clone, PartialEq, uniffi::Record, serde::Serialize)]
pub struct ComplianceResult {
    /// The item's id in the playbook, for example `registration_no`.
    pub item: String,
    /// What the item asks for, as the playbook describes it.
    pub description: String,
    /// True when an utterance of the call satisfied the item.
    pub satisfied: bool,
    /// Seconds from the call's start of the first utterance that satisfied it.
    pub at_s: Option<f64>,
    /// The words that satisfied it, as transcribed.
    pub quote: Option<String>,
    /// Who said them.
    pub speaker: Option<Speaker>,
}

/// The customer's sentiment at one utterance, from -1 (hostile) to 1 (warm).
#[derive(Debug, Clone, PartialEq, uniffi::Record, serde::Serialize)]
pub struct SentimentPoint {
    /// Seconds from the call's start.
    pub at_s: f64,
    /// The utterance's own score, from -1 to 1.
    pub score: f32,
    /// True where the curve changes direction markedly (a turning point of the call).
    pub turning_point: bool,
    /// The utterance's position in the call.
    pub seq: u32,
    /// The moving average of the last few scores: the curve to draw.
    pub smoothed: f32,
    /// The playbook's sentiment class nearest to the utterance (`positive`, `neutral`, ...).
    pub label: String,
}

/// A rep's reaction to a suggestion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SuggestionFate {
    /// It was displayed (the coach records this itself when it emits a suggestion).
    Shown,
    /// The rep sent or said it as it was.
    Used,
    /// The rep changed it and then used it.
    Edited,
    /// The rep dismissed it.
    Deleted,
}

impl SuggestionFate {
    /// The fate as the store and the outbox write it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SuggestionFate::Shown => "shown",
            SuggestionFate::Used => "used",
            SuggestionFate::Edited => "edited",
            SuggestionFate::Deleted => "deleted",
        }
    }
}

/// The state of a rep's circuit breaker for one scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerPhase {
    /// Suggestions are shown.
    Closed,
    /// Frozen: the rep deleted too many in a row; guiding questions are shown instead.
    Open,
    /// The cool-down ended: the next suggestion is shown on trial.
    HalfOpen,
}

impl BreakerPhase {
    /// The state as the store and the outbox write it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            BreakerPhase::Closed => "closed",
            BreakerPhase::Open => "open",
            BreakerPhase::HalfOpen => "half_open",
        }
    }
}

/// A rep's circuit breaker for one scenario.
#[derive(Debug, Clone, PartialEq, uniffi::Record, serde::Serialize)]
pub struct BreakerState {
    pub rep_id: String,
    /// The objection type or intent id.
    pub scenario: String,
    pub state: BreakerPhase,
    /// Suggestions deleted in a row since the last use or edit.
    pub deleted_in_row: u32,
    /// When it froze (RFC 3339), while it is frozen.
    pub opened_at: Option<String>,
    /// When a frozen breaker turns half-open (RFC 3339).
    pub half_open_at: Option<String>,
    /// The last change (RFC 3339).
    pub updated_at: String,
}

/// What recording a fate did.
#[derive(Debug, Clone, PartialEq, uniffi::Record, serde::Serialize)]
pub struct FeedbackOutcome {
    pub suggestion_id: String,
    /// The suggestion's scenario.
    pub scenario: String,
    pub fate: SuggestionFate,
    /// False when nothing was recorded: `shown` or the same final fate again.
    pub recorded: bool,
    /// The scenario's breaker afterwards.
    pub breaker: BreakerState,
}

/// One reply suggested to the rep.
#[derive(Debug, Clone, PartialEq, uniffi::Record, serde::Serialize)]
pub struct Suggestion {
    /// Unique; pass it to `record_feedback` with the rep's reaction.
    pub id: String,
    /// The playbook script's id.
    pub script_id: String,
    pub scenario: String,
    pub language: String,
    /// What to say or send.
    pub reply: String,
    /// The customer situation the script answers.
    pub situation: String,
    /// 1 for the best.
    pub rank: u32,
    /// The combined score the rank comes from.
    pub score: f32,
    /// Cosine similarity of the customer's words to the situation.
    pub similarity: f32,
    /// (won + 1) / (used + 2) from the playbook's tally.
    pub win_rate: f32,
    /// Why it has this rank, in words.
    pub reason: String,
    /// True when it is the trial suggestion of a half-open breaker.
    pub trial: bool,
}

/// A live alert for the rep.
#[derive(Debug, Clone, PartialEq, uniffi::Record, serde::Serialize)]
pub struct CoachAlert {
    /// `compliance_due` (a required statement is late) or `sentiment_drop`.
    pub kind: String,
    /// The compliance item, for `compliance_due`.
    pub item: Option<String>,
    /// What to tell the rep.
    pub message: String,
}

/// Something the coach tells the rep during a call, caused by the utterance `seq`.
#[derive(Debug, Clone, PartialEq, uniffi::Enum, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CoachEvent {
    /// Replies for an objection (or another coached scenario) the customer raised.
    Suggestions {
        seq: u32,
        scenario: String,
        suggestions: Vec<Suggestion>,
    },
    /// The rep froze this scenario: questions to think with instead of scripts.
    GuidingQuestions {
        seq: u32,
        scenario: String,
        questions: Vec<String>,
    },
    /// A required statement was made.
    ComplianceSatisfied { seq: u32, result: ComplianceResult },
    /// Something needs the rep's attention now.
    Alert { seq: u32, alert: CoachAlert },
}

/// The call score's parts; a part is null when the call gave nothing to measure.
#[derive(Debug, Clone, PartialEq, uniffi::Record, serde::Serialize)]
pub struct CallScore {
    /// 0 to 100: the weighted mean of the parts present.
    pub overall: f32,
    /// Share of the compliance items that apply to the call and were said.
    pub required_coverage: Option<f32>,
    /// Share of the key commitment intents (commitment, next step) present in the call.
    pub commitment_coverage: Option<f32>,
    /// Share of the rep's utterances that carried a compliance phrase.
    pub compliance_phrase_share: Option<f32>,
    /// The customer's mean sentiment, -1 to 1.
    pub sentiment_mean: Option<f32>,
}

/// A coaching task for the manager, raised by a compliance streak.
#[derive(Debug, Clone, PartialEq, uniffi::Record, serde::Serialize)]
pub struct CoachingTask {
    /// The outbox record's id.
    pub id: String,
    pub rep_id: String,
    /// The compliance item missed.
    pub item: String,
    /// The calls of the streak, oldest first.
    pub call_ids: Vec<String>,
    /// RFC 3339: the last call's end plus the playbook's deadline.
    pub due_at: String,
}

/// What the coach concluded when a call ended.
#[derive(Debug, Clone, PartialEq, uniffi::Record, serde::Serialize)]
pub struct CallCoaching {
    pub call_id: String,
    pub rep_id: String,
    pub playbook_version: String,
    /// Every compliance item that applies to the call.
    pub compliance: Vec<ComplianceResult>,
    pub score: CallScore,
    /// The customer's sentiment, one point per customer utterance.
    pub sentiment: Vec<SentimentPoint>,
    /// Coaching tasks this call raised.
    pub tasks: Vec<CoachingTask>,
    /// False when this call's streaks had already been counted (the call was finished twice).
    pub streaks_counted: bool,
}

/// The coach's events for one utterance of a replayed call, with the time they took.
#[derive(Debug, Clone, PartialEq, uniffi::Record, serde::Serialize)]
pub struct CoachedUtterance {
    pub seq: u32,
    pub events: Vec<CoachEvent>,
    /// Microseconds from receiving the utterance to its events.
    pub micros: u64,
}

/// A whole call replayed through the coach.
#[derive(Debug, Clone, PartialEq, uniffi::Record, serde::Serialize)]
pub struct CallReplay {
    /// One entry per utterance, in order.
    pub utterances: Vec<CoachedUtterance>,
    /// What the coach concluded at the call's end.
    pub coaching: CallCoaching,
}

/// The playbook in force, swapped atomically: a call finishes on the version it started with.
pub(crate) struct Coach {
    playbook: ArcSwap<Playbook>,
}

impl Coach {
    /// Starts with the default playbook compiled into the library.
    pub(crate) fn new() -> Result<Coach> {
        Ok(Coach {
            playbook: ArcSwap::from_pointee(Playbook::default_playbook()?),
        })
    }

    /// The playbook in force now.
    pub(crate) fn playbook(&self) -> Arc<Playbook> {
        self.playbook.load_full()
    }

    /// Puts a checked playbook in force and returns its version.
    pub(crate) fn swap(&self, playbook: Playbook) -> String {
        let version = playbook.version.clone();
        let old = self.playbook.swap(Arc::new(playbook));
        tracing::info!(from = %old.version, to = %version, "playbook swapped");
        version
    }
}

/// The current instant, in UTC, for callers that do not inject a clock.
pub(crate) fn now() -> DateTime<FixedOffset> {
    DateTime::<Utc>::from(std::time::SystemTime::now()).fixed_offset()
}
