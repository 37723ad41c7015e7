//! The classifier: the lexicon first, then the embedding layer.
//!
//! A phrase or pattern of the lexicon decides outright and skips the encoder, which keeps most
//! utterances far below the latency budget and lets sales ops fix a label by adding a phrase.
//! Everything else is embedded and compared with the lexicon's examples (the `k` nearest of
//! each label, or each label's prototype: the lexicon's `[classifier]` table chooses), and the
//! label scores become a confidence through a softmax; below `min_similarity` the utterance is
//! the fallback intent. The speaker is carried but never read: labels do not depend on who
//! speaks. The previous utterance is read only for short replies that a follow-up rule names
//! ("no" after "can we sign this week?").

use super::encoder::{dot, Encoder};
use super::lexicon::{Hit, HitKind, Lexicon, Method};
use super::text;
use crate::error::Result;
use std::sync::Arc;

/// The example embeddings of one lexicon version.
#[derive(Debug)]
pub(crate) struct ExampleIndex {
    /// One embedding per example of the lexicon, in its order.
    embeddings: Vec<Vec<f32>>,
    /// Per label: the normalised mean of its examples' embeddings, if it has examples.
    prototypes: Vec<Option<Vec<f32>>>,
}

/// Where a label came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    Phrase,
    Pattern,
    FollowUp,
    Example,
    Prototype,
    Fallback,
}

/// The classifier's decision for one utterance, in lexicon terms.
#[derive(Debug, Clone)]
pub(crate) struct Verdict {
    pub label: usize,
    pub confidence: f32,
    pub source: Source,
    /// The phrase, pattern or example that decided, or why nothing did.
    pub evidence: String,
    /// The cosine similarity to the evidence example, for embedding decisions.
    pub similarity: Option<f32>,
}

/// Gives the encoder when the embedding layer needs it (loading it on first use).
pub(crate) type EncoderSource<'a> = &'a dyn Fn() -> Result<Arc<Encoder>>;

/// Classifies one utterance with `lexicon`; `previous` is the utterance before it, if any.
pub(crate) fn classify(
    lexicon: &Lexicon,
    encoder: EncoderSource,
    text: &str,
    previous: Option<&str>,
) -> Result<Verdict> {
    let folded = text::fold(text);
    if folded.is_empty() {
        return Ok(fallback(lexicon, 1.0, "no words"));
    }
    if let Some(hit) = follow_up(lexicon, encoder, &folded, previous)? {
        return Ok(from_hit(lexicon, hit));
    }
    let scan = lexicon.scan(&folded);
    if let Some(hit) = scan.hit {
        return Ok(from_hit(lexicon, hit));
    }
    let encoder = encoder()?;
    let index = example_index(lexicon, &encoder)?;
    let embedding = encoder.embed(text)?;
    Ok(nearest(lexicon, &index, &embedding, &scan.negated))
}

fn follow_up(
    lexicon: &Lexicon,
    encoder: EncoderSource,
    folded: &str,
    previous: Option<&str>,
) -> Result<Option<Hit>> {
    let Some(previous) = previous else {
        return Ok(None);
    };
    if !lexicon.wants_previous(folded) {
        return Ok(None);
    }
    let before = classify(lexicon, encoder, previous, None)?;
    Ok(lexicon.follow_up(folded, before.label))
}

fn from_hit(lexicon: &Lexicon, hit: Hit) -> Verdict {
    let source = match hit.kind {
        HitKind::Phrase => Source::Phrase,
        HitKind::Pattern => Source::Pattern,
        HitKind::FollowUp => Source::FollowUp,
    };
    Verdict {
        label: hit.label,
        confidence: lexicon.settings.hit_confidence,
        source,
        evidence: hit.evidence,
        similarity: None,
    }
}

fn fallback(lexicon: &Lexicon, confidence: f32, why: &str) -> Verdict {
    Verdict {
        label: lexicon.fallback_intent,
        confidence,
        source: Source::Fallback,
        evidence: why.to_string(),
        similarity: None,
    }
}

/// The lexicon's example index, embedding every example on first use.
pub(crate) fn example_index(lexicon: &Lexicon, encoder: &Encoder) -> Result<Arc<ExampleIndex>> {
    let mut slot = lexicon.index.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(index) = slot.as_ref() {
        return Ok(index.clone());
    }
    let started = std::time::Instant::now();
    let embeddings = lexicon
        .examples
        .iter()
        .map(|e| encoder.embed(&e.text))
        .collect::<Result<Vec<_>>>()?;
    let prototypes = (0..lexicon.labels.len())
        .map(|label| prototype(lexicon, &embeddings, label))
        .collect();
    let index = Arc::new(ExampleIndex {
        embeddings,
        prototypes,
    });
    tracing::debug!(
        version = %lexicon.version,
        examples = lexicon.examples.len(),
        ms = started.elapsed().as_millis() as u64,
        "lexicon examples embedded"
    );
    *slot = Some(index.clone());
    Ok(index)
}

fn prototype(lexicon: &Lexicon, embeddings: &[Vec<f32>], label: usize) -> Option<Vec<f32>> {
    let mut sum: Option<Vec<f32>> = None;
    for (example, embedding) in lexicon.examples.iter().zip(embeddings) {
        if example.label != label {
            continue;
        }
        let acc = sum.get_or_insert_with(|| vec![0.0; embedding.len()]);
        acc.iter_mut().zip(embedding).for_each(|(a, x)| *a += x);
    }
    let mut mean = sum?;
    let norm = dot(&mean, &mean).sqrt().max(1e-12);
    mean.iter_mut().for_each(|x| *x /= norm);
    Some(mean)
}

/// One label's score and the example nearest to the utterance among its examples.
struct Scored {
    label: usize,
    score: f32,
    nearest: usize,
    nearest_similarity: f32,
}

fn nearest(lexicon: &Lexicon, index: &ExampleIndex, query: &[f32], negated: &[usize]) -> Verdict {
    let similarities: Vec<f32> = index.embeddings.iter().map(|e| dot(e, query)).collect();
    let scored: Vec<Scored> = (0..lexicon.labels.len())
        .filter(|label| !negated.contains(label))
        .filter_map(|label| score_label(lexicon, index, &similarities, query, label))
        .collect();
    let Some(best) = scored.iter().max_by(|a, b| a.score.total_cmp(&b.score)) else {
        return fallback(lexicon, 1.0, "the lexicon has no examples");
    };
    let confidence = softmax_top(&scored, best.score, lexicon.settings.temperature);
    if best.score < lexicon.settings.min_similarity {
        let why = format!("nothing similar enough (best {:.3})", best.score);
        return fallback(lexicon, 1.0 - confidence * 0.5, &why);
    }
    let example = lexicon.examples.get(best.nearest);
    Verdict {
        label: best.label,
        confidence,
        source: match lexicon.settings.method {
            Method::Nearest => Source::Example,
            Method::Prototype => Source::Prototype,
        },
        evidence: example.map_or_else(String::new, |e| e.text.clone()),
        similarity: Some(best.nearest_similarity),
    }
}

fn score_label(
    lexicon: &Lexicon,
    index: &ExampleIndex,
    similarities: &[f32],
    query: &[f32],
    label: usize,
) -> Option<Scored> {
    let mut own: Vec<(usize, f32)> = lexicon
        .examples
        .iter()
        .zip(similarities)
        .enumerate()
        .filter(|(_, (e, _))| e.label == label)
        .map(|(i, (_, s))| (i, *s))
        .collect();
    own.sort_by(|a, b| b.1.total_cmp(&a.1));
    let &(nearest, nearest_similarity) = own.first()?;
    let score = match lexicon.settings.method {
        Method::Nearest => {
            let top = own.iter().take(lexicon.settings.k);
            top.clone().map(|(_, s)| s).sum::<f32>() / top.count().max(1) as f32
        }
        Method::Prototype => dot(index.prototypes.get(label)?.as_ref()?, query),
    };
    Some(Scored {
        label,
        score,
        nearest,
        nearest_similarity,
    })
}

/// The softmax weight of the best score among all label scores.
fn softmax_top(scored: &[Scored], best: f32, temperature: f32) -> f32 {
    let total: f32 = scored
        .iter()
        .map(|s| ((s.score - best) / temperature).exp())
        .sum();
    if total > 0.0 {
        1.0 / total
    } else {
        0.0
    }
}
