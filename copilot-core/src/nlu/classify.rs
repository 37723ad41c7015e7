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
use std::path::Path;
use std::sync::Arc;

/// The example embeddings of one lexicon version.
#[derive(Debug)]
pub(crate) struct ExampleIndex {
    /// One embedding per example of the lexicon, in its order.
    embeddings: Vec<Vec<f32>>,
    /// Per label: the sum of its examples' embeddings (its prototype's direction), if any.
    sums: Vec<Option<Vec<f32>>>,
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

/// What one classification works with.
pub(crate) struct Context<'a> {
    pub lexicon: &'a Lexicon,
    pub encoder: EncoderSource<'a>,
    /// Where example embeddings are cached, if anywhere.
    pub cache_dir: Option<&'a Path>,
}

/// Classifies one utterance; `previous` is the utterance before it, if any.
pub(crate) fn classify(context: &Context, text: &str, previous: Option<&str>) -> Result<Verdict> {
    let lexicon = context.lexicon;
    let folded = text::fold(text);
    if folded.is_empty() {
        return Ok(fallback(lexicon, 1.0, "no words"));
    }
    if let Some(hit) = follow_up(context, &folded, previous)? {
        return Ok(from_hit(lexicon, hit));
    }
    let scan = lexicon.scan(&folded);
    if let Some(hit) = scan.hit {
        return Ok(from_hit(lexicon, hit));
    }
    let encoder = (context.encoder)()?;
    let index = example_index(lexicon, &encoder, context.cache_dir)?;
    let embedding = encoder.embed(text)?;
    Ok(nearest(lexicon, &index, &embedding, &scan.negated, None))
}

fn follow_up(context: &Context, folded: &str, previous: Option<&str>) -> Result<Option<Hit>> {
    let lexicon = context.lexicon;
    let Some(previous) = previous else {
        return Ok(None);
    };
    if !lexicon.wants_previous(folded) {
        return Ok(None);
    }
    let before = classify(context, previous, None)?;
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

/// The lexicon's example index, embedding every example on first use (or reading them from
/// the cache).
pub(crate) fn example_index(
    lexicon: &Lexicon,
    encoder: &Encoder,
    cache_dir: Option<&Path>,
) -> Result<Arc<ExampleIndex>> {
    let mut slot = lexicon.index.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(index) = slot.as_ref() {
        return Ok(index.clone());
    }
    let started = std::time::Instant::now();
    let embeddings = example_embeddings(lexicon, encoder, cache_dir)?;
    let sums = (0..lexicon.labels.len())
        .map(|label| example_sum(lexicon, &embeddings, label))
        .collect();
    let index = Arc::new(ExampleIndex { embeddings, sums });
    tracing::debug!(
        version = %lexicon.version,
        examples = lexicon.examples.len(),
        ms = started.elapsed().as_millis() as u64,
        "lexicon examples embedded"
    );
    *slot = Some(index.clone());
    Ok(index)
}

fn example_embeddings(
    lexicon: &Lexicon,
    encoder: &Encoder,
    cache_dir: Option<&Path>,
) -> Result<Vec<Vec<f32>>> {
    let mut parts: Vec<&str> = lexicon.examples.iter().map(|e| e.text.as_str()).collect();
    parts.push(encoder.name());
    let key = super::cache::digest(&parts);
    let count = lexicon.examples.len();
    if let Some(cached) = cache_dir.and_then(|dir| super::cache::read(dir, key, count)) {
        return Ok(cached);
    }
    let embeddings = lexicon
        .examples
        .iter()
        .map(|e| encoder.embed(&e.text))
        .collect::<Result<Vec<_>>>()?;
    if let Some(dir) = cache_dir {
        if let Err(err) = super::cache::write(dir, key, &embeddings) {
            tracing::warn!(%err, "the example embeddings could not be cached");
        }
    }
    Ok(embeddings)
}

fn example_sum(lexicon: &Lexicon, embeddings: &[Vec<f32>], label: usize) -> Option<Vec<f32>> {
    let mut sum: Option<Vec<f32>> = None;
    for (example, embedding) in lexicon.examples.iter().zip(embeddings) {
        if example.label != label {
            continue;
        }
        let acc = sum.get_or_insert_with(|| vec![0.0; embedding.len()]);
        acc.iter_mut().zip(embedding).for_each(|(a, x)| *a += x);
    }
    sum
}

/// The cosine similarity of `query` to a label's prototype, leaving out example `exclude`
/// when it is one of the label's.
fn prototype_score(
    lexicon: &Lexicon,
    index: &ExampleIndex,
    query: &[f32],
    label: usize,
    exclude: Option<usize>,
) -> Option<f32> {
    let sum = index.sums.get(label)?.as_ref()?;
    let mut along = dot(sum, query);
    let mut length2 = dot(sum, sum);
    let own = exclude.filter(|&i| lexicon.examples.get(i).is_some_and(|e| e.label == label));
    if let Some(left_out) = own.and_then(|i| index.embeddings.get(i)) {
        along -= dot(left_out, query);
        length2 += dot(left_out, left_out) - 2.0 * dot(sum, left_out);
    }
    Some(along / length2.max(1e-12).sqrt())
}

/// One label's score and the example nearest to the utterance among its examples.
struct Scored {
    label: usize,
    score: f32,
    nearest: usize,
    nearest_similarity: f32,
}

/// The embedding layer's verdict; `exclude` leaves one example out (for leave-one-out checks).
fn nearest(
    lexicon: &Lexicon,
    index: &ExampleIndex,
    query: &[f32],
    negated: &[usize],
    exclude: Option<usize>,
) -> Verdict {
    let similarities: Vec<f32> = index
        .embeddings
        .iter()
        .enumerate()
        .map(|(i, e)| {
            if Some(i) == exclude {
                f32::MIN
            } else {
                dot(e, query)
            }
        })
        .collect();
    let scored: Vec<Scored> = (0..lexicon.labels.len())
        .filter(|label| !negated.contains(label))
        .filter_map(|label| score_label(lexicon, index, &similarities, query, (label, exclude)))
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
    (label, exclude): (usize, Option<usize>),
) -> Option<Scored> {
    let mut own: Vec<(usize, f32)> = lexicon
        .examples
        .iter()
        .zip(similarities)
        .enumerate()
        .filter(|(_, (e, s))| e.label == label && **s > f32::MIN)
        .map(|(i, (_, s))| (i, *s))
        .collect();
    own.sort_by(|a, b| b.1.total_cmp(&a.1));
    let &(nearest, nearest_similarity) = own.first()?;
    let score = match lexicon.settings.method {
        Method::Nearest => {
            let top = own.iter().take(lexicon.settings.k);
            top.clone().map(|(_, s)| s).sum::<f32>() / top.count().max(1) as f32
        }
        Method::Prototype => prototype_score(lexicon, index, query, label, exclude)?,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nlu::lexicon::Method;
    use std::path::PathBuf;

    fn models() -> PathBuf {
        std::env::var_os("COPILOT_MODELS")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../models"))
    }

    /// Leave-one-out over the default lexicon's examples: each example is classified by the
    /// lexicon's phrases, then by the embedding layer without itself. This is the development
    /// signal for the classifier's settings; the evaluation split is never used for them.
    #[test]
    fn leave_one_out_on_the_lexicon_examples() {
        let dir = models();
        let encoder = Encoder::load(
            &dir.join("e5-small-q4_0.gguf"),
            &dir.join("e5-small-tokenizer.json"),
        )
        .unwrap();
        let cache = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/tmp/nlu-cache");
        let mut lexicon = Lexicon::default_lexicon().unwrap();
        let index = example_index(&lexicon, &encoder, Some(&cache)).unwrap();
        let settings = [
            (Method::Nearest, 1),
            (Method::Nearest, 3),
            (Method::Nearest, 5),
            (Method::Prototype, 1),
        ];
        for (method, k) in settings {
            lexicon.settings.method = method;
            lexicon.settings.k = k;
            let (mut phrase_wrong, mut right, mut other) = (0, 0, 0);
            for (i, example) in lexicon.examples.iter().enumerate() {
                let scan = lexicon.scan(&text::fold(&example.text));
                let label = match scan.hit {
                    Some(hit) => {
                        if hit.label != example.label && k == 1 && method == Method::Nearest {
                            let wrong = lexicon.id(hit.label);
                            println!("  phrase '{}' -> {wrong}: {}", hit.evidence, example.text);
                        }
                        phrase_wrong += usize::from(hit.label != example.label);
                        hit.label
                    }
                    None => {
                        let query = index.embeddings.get(i).unwrap();
                        let v = nearest(&lexicon, &index, query, &scan.negated, Some(i));
                        other += usize::from(v.source == Source::Fallback);
                        v.label
                    }
                };
                right += usize::from(label == example.label);
            }
            let n = lexicon.examples.len();
            println!(
                "{method:?} k={k}: accuracy {:.3}, wrong phrase hits {phrase_wrong}, fallback {other}",
                right as f64 / n as f64
            );
            assert!(
                right as f64 / n as f64 > 0.4,
                "the embedding layer has regressed"
            );
        }
    }
}
