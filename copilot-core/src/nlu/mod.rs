//! Understanding what is said: every utterance gets an intent and, for objections, an
//! objection type, with a confidence and the evidence that decided it.
//!
//! Two layers, so that sales ops can steer it without an app update and it still generalises:
//! the lexicon ([`lexicon`]), a versioned data file whose phrases decide outright, and the
//! embedding layer ([`encoder`], [`classify`]) that compares an utterance with the lexicon's
//! examples. The lexicon in force is swapped atomically: a classification reads one version from
//! start to end and names it in its result. This module knows no audio and no database.

pub(crate) mod cache;
pub(crate) mod classify;
pub(crate) mod encoder;
pub(crate) mod lexicon;
pub(crate) mod text;

use crate::error::Result;
use crate::Speaker;
use arc_swap::ArcSwap;
use encoder::Encoder;
use lexicon::Lexicon;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// One utterance or chat message to classify.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Utterance {
    /// The text as said or typed, in any script or width.
    pub text: String,
    /// Who said it, if known. It is carried into the result and never changes the label.
    pub speaker: Option<Speaker>,
    /// The utterance just before this one in the same call or chat, if any. It is read only
    /// for short replies ("no", "不行") whose meaning depends on what they answer.
    pub previous: Option<String>,
}

/// What decided a classification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceSource {
    /// A lexicon phrase occurs in the utterance.
    Phrase,
    /// A lexicon pattern matches the utterance.
    Pattern,
    /// A lexicon follow-up rule read a short reply in the light of the previous utterance.
    FollowUp,
    /// The nearest lexicon examples in the embedding space.
    Example,
    /// The label prototype (mean of its examples) nearest in the embedding space.
    Prototype,
    /// Nothing matched or nothing was similar enough; the label is the fallback intent.
    Fallback,
}

/// Why an utterance got its label.
#[derive(Debug, Clone, uniffi::Record, serde::Serialize)]
pub struct Evidence {
    /// What kind of rule or comparison decided.
    pub source: EvidenceSource,
    /// The phrase or pattern as the lexicon writes it, the nearest example, or the reason for
    /// the fallback.
    pub text: String,
    /// The cosine similarity to the nearest example, for embedding decisions.
    pub similarity: Option<f32>,
}

/// The label of one utterance.
#[derive(Debug, Clone, uniffi::Record, serde::Serialize)]
pub struct Classification {
    /// The utterance's text as given.
    pub text: String,
    /// Who said it, as given.
    pub speaker: Option<Speaker>,
    /// The intent id from the lexicon (for example `objection`, `price_inquiry`, `other`).
    pub intent: String,
    /// The objection type id when the intent is the objection intent, else null.
    pub objection: Option<String>,
    /// How sure the classifier is, from 0 to 1.
    pub confidence: f32,
    /// The phrase or example that decided.
    pub evidence: Evidence,
    /// The version of the lexicon that made this classification.
    pub lexicon_version: String,
}

/// The lexicon in force and the encoder, shared by every thread of an engine.
pub(crate) struct Nlu {
    lexicon: ArcSwap<Lexicon>,
    encoder: Mutex<Option<Arc<Encoder>>>,
    /// Where example embeddings are cached; none keeps them in memory only.
    cache_dir: Option<PathBuf>,
}

impl Nlu {
    /// Starts with the default lexicon compiled into the library; example embeddings are
    /// cached in `cache_dir`.
    pub(crate) fn new(cache_dir: Option<PathBuf>) -> Result<Nlu> {
        Ok(Nlu {
            lexicon: ArcSwap::from_pointee(Lexicon::default_lexicon()?),
            encoder: Mutex::new(None),
            cache_dir,
        })
    }

    /// The version of the lexicon in force.
    pub(crate) fn lexicon_version(&self) -> String {
        self.lexicon.load().version.clone()
    }

    /// Puts a checked lexicon in force. Classifications already running finish on the old one.
    pub(crate) fn swap(&self, lexicon: Lexicon) -> String {
        let version = lexicon.version.clone();
        let old = self.lexicon.swap(Arc::new(lexicon));
        tracing::info!(from = %old.version, to = %version, "lexicon swapped");
        version
    }

    /// The encoder, loaded with `load` on first use.
    pub(crate) fn encoder(&self, load: impl FnOnce() -> Result<Encoder>) -> Result<Arc<Encoder>> {
        let mut slot = self.encoder.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(encoder) = slot.as_ref() {
            return Ok(encoder.clone());
        }
        let encoder = Arc::new(load()?);
        *slot = Some(encoder.clone());
        Ok(encoder)
    }

    /// Classifies one utterance on the lexicon in force when the call starts.
    pub(crate) fn classify(
        &self,
        utterance: &Utterance,
        encoder: classify::EncoderSource,
    ) -> Result<Classification> {
        let lexicon = self.lexicon.load_full();
        let context = classify::Context {
            lexicon: &lexicon,
            encoder,
            cache_dir: self.cache_dir.as_deref(),
        };
        let verdict = classify::classify(&context, &utterance.text, utterance.previous.as_deref())?;
        tracing::trace!(text = %utterance.text, label = lexicon.id(verdict.label), "classified");
        let (intent, objection) = lexicon.intent_of(verdict.label);
        Ok(Classification {
            text: utterance.text.clone(),
            speaker: utterance.speaker,
            intent,
            objection,
            confidence: verdict.confidence,
            evidence: Evidence {
                source: source(verdict.source),
                text: verdict.evidence,
                similarity: verdict.similarity,
            },
            lexicon_version: lexicon.version.clone(),
        })
    }
}

fn source(source: classify::Source) -> EvidenceSource {
    match source {
        classify::Source::Phrase => EvidenceSource::Phrase,
        classify::Source::Pattern => EvidenceSource::Pattern,
        classify::Source::FollowUp => EvidenceSource::FollowUp,
        classify::Source::Example => EvidenceSource::Example,
        classify::Source::Prototype => EvidenceSource::Prototype,
        classify::Source::Fallback => EvidenceSource::Fallback,
    }
}
