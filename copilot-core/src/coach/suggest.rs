//! Suggested replies: the playbook's scripts for a scenario, ranked for what the customer said.
//!
//! A script's rank combines how close the customer's words are to the situation it answers
//! (cosine similarity of e5 embeddings, the encoder the classifier uses) and how often it won
//! (a smoothed win rate, so a script used twice and won twice does not beat one that won 30 of
//! 50). The weights are the playbook's. Situation embeddings are computed once per playbook and
//! encoder and cached in the data folder as the lexicon's examples are.

use super::playbook::{Playbook, PlaybookIndex, Script};
use crate::error::Result;
use crate::nlu::cache;
use crate::nlu::encoder::{dot, Encoder};
use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

/// One ranked script.
#[derive(Debug, Clone)]
pub(crate) struct Ranked {
    pub script: usize,
    pub score: f32,
    pub similarity: f32,
    pub win_rate: f32,
}

/// The playbook's embeddings, computed on first use (or read from the cache).
pub(crate) fn index(
    playbook: &Playbook,
    encoder: &Encoder,
    cache_dir: Option<&Path>,
) -> Result<Arc<PlaybookIndex>> {
    let mut slot = playbook.index.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(index) = slot.as_ref() {
        return Ok(index.clone());
    }
    let started = std::time::Instant::now();
    let texts = texts(playbook);
    let vectors = embeddings(&texts, encoder, cache_dir)?;
    let (situations, examples) = vectors.split_at(playbook.scripts.len().min(vectors.len()));
    let index = Arc::new(PlaybookIndex {
        situations: situations.to_vec(),
        prototypes: prototypes(playbook, examples),
    });
    tracing::debug!(
        version = %playbook.version,
        texts = texts.len(),
        ms = started.elapsed().as_millis() as u64,
        "playbook embedded"
    );
    *slot = Some(index.clone());
    Ok(index)
}

/// Every text the playbook embeds: the scripts' situations, then the sentiment examples.
fn texts(playbook: &Playbook) -> Vec<&str> {
    let situations = playbook.scripts.iter().map(|s| s.situation.as_str());
    let examples = playbook
        .classes
        .iter()
        .flat_map(|c| c.examples.iter().map(String::as_str));
    situations.chain(examples).collect()
}

fn embeddings(
    texts: &[&str],
    encoder: &Encoder,
    cache_dir: Option<&Path>,
) -> Result<Vec<Vec<f32>>> {
    // The tag keeps these vectors apart from a lexicon with the very same sentences.
    let mut parts: Vec<&str> = vec!["playbook"];
    parts.extend_from_slice(texts);
    parts.push(encoder.name());
    let key = cache::digest(&parts);
    if let Some(cached) = cache_dir.and_then(|dir| cache::read(dir, key, texts.len())) {
        return Ok(cached);
    }
    let vectors = texts
        .iter()
        .map(|t| encoder.embed(t))
        .collect::<Result<Vec<_>>>()?;
    if let Some(dir) = cache_dir {
        if let Err(err) = cache::write(dir, key, &vectors) {
            tracing::warn!(%err, "the playbook embeddings could not be cached");
        }
    }
    Ok(vectors)
}

/// Each sentiment class's normalised mean example embedding.
fn prototypes(playbook: &Playbook, examples: &[Vec<f32>]) -> Vec<Vec<f32>> {
    let mut rest = examples;
    let mut out = Vec::with_capacity(playbook.classes.len());
    for class in &playbook.classes {
        let (own, tail) = rest.split_at(class.examples.len().min(rest.len()));
        rest = tail;
        let dim = own.first().map_or(0, Vec::len);
        let mut sum = vec![0.0f32; dim];
        for v in own {
            sum.iter_mut().zip(v).for_each(|(a, x)| *a += x);
        }
        let norm = dot(&sum, &sum).sqrt().max(1e-12);
        out.push(sum.into_iter().map(|x| x / norm).collect());
    }
    out
}

/// The scripts of `scenario` in `language`, best first, leaving out the ids in `seen`.
pub(crate) fn rank(
    playbook: &Playbook,
    index: &PlaybookIndex,
    query: &[f32],
    (scenario, language): (&str, &str),
    seen: &HashSet<String>,
) -> Vec<Ranked> {
    let weights = &playbook.suggest;
    let mut ranked: Vec<Ranked> = playbook
        .scripts
        .iter()
        .enumerate()
        .filter(|(_, s)| s.scenario == scenario && s.language == language && !seen.contains(&s.id))
        .filter_map(|(i, s)| {
            let similarity = dot(index.situations.get(i)?, query);
            let win_rate = s.win_rate();
            let score = weights.similarity_weight * similarity + weights.win_rate_weight * win_rate;
            Some(Ranked {
                script: i,
                score,
                similarity,
                win_rate,
            })
        })
        .collect();
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score));
    ranked
}

/// Why a script got its rank, for the rep and for whoever tunes the playbook.
pub(crate) fn reason(script: &Script, ranked: &Ranked, rank: usize, of: usize) -> String {
    format!(
        "#{rank} of {of}: situation similarity {:.2} (\"{}\"), won {} of {} deals \
         (smoothed win rate {:.2}), score {:.3}",
        ranked.similarity, script.situation, script.won, script.used, ranked.win_rate, ranked.score
    )
}

/// The customer's sentiment for an utterance's embedding: the class values weighted by a
/// softmax over the similarities to each class's prototype, and the most likely class.
pub(crate) fn sentiment(playbook: &Playbook, index: &PlaybookIndex, query: &[f32]) -> (f32, usize) {
    let temperature = playbook.sentiment.temperature;
    let sims: Vec<f32> = index.prototypes.iter().map(|p| dot(p, query)).collect();
    let best = sims
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or((0, 0.0), |(i, s)| (i, *s));
    let weights: Vec<f32> = sims
        .iter()
        .map(|s| ((s - best.1) / temperature).exp())
        .collect();
    let total: f32 = weights.iter().sum::<f32>().max(1e-12);
    let value = playbook
        .classes
        .iter()
        .zip(&weights)
        .map(|(c, w)| c.value * w / total)
        .sum();
    (value, best.0)
}
