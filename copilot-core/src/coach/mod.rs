//! Coaching the rep while the call runs: suggested replies from the playbook, the circuit
//! breaker that steps back when the rep keeps rejecting them, compliance checks with their
//! streak rule, and the call score with the customer's sentiment.
//!
//! This module uses `nlu` (labels, the encoder) and `store` (breaker and streak state, the
//! outbox); it knows no audio. The records below are shared with the note builder.

use crate::Speaker;

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
    pub score: f32,
    /// True where the curve changes direction markedly (a turning point of the call).
    pub turning_point: bool,
}
