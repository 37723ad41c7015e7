//! Word error rate and speed of whisper-rs on the converted models, F16 and Q8_0 side by side,
//! next to faster-whisper's word errors on the original models (from `reference.json`).
//!
//! usage: cargo run --release -p copilot-bench --bin asr-accuracy [-- THREADS]

use copilot_bench::wer::{distance, words};
use copilot_bench::{models_dir, root};
use copilot_core::{Engine, EngineConfig, TranscribeOptions};
use std::time::Instant;

/// One model variant's totals over all clips.
#[derive(Default)]
struct Totals {
    errors: usize,
    words: usize,
    audio_s: f64,
    compute_s: f64,
}

fn reference() -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    let path = root().join("fixtures/audio/reference.json");
    Ok(serde_json::from_slice(&std::fs::read(path)?)?)
}

fn clips(reference: &serde_json::Value) -> Vec<String> {
    reference["clips"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// faster-whisper's word errors over all clips for one model and compute type.
fn peer_errors(reference: &serde_json::Value, model: &str, compute: &str) -> usize {
    clips(reference)
        .iter()
        .filter_map(|c| reference["clips"][c][model][compute]["word_errors"].as_u64())
        .sum::<u64>() as usize
}

fn run(
    engine: &Engine,
    clips: &[String],
    model: &str,
    variant: &str,
    threads: u32,
) -> Result<Totals, Box<dyn std::error::Error>> {
    let mut totals = Totals::default();
    for clip in clips {
        let truth = std::fs::read_to_string(root().join(format!("fixtures/audio/{clip}.txt")))?;
        let wav = root().join(format!("fixtures/audio/{clip}.wav"));
        let options = TranscribeOptions {
            asr_model: model.into(),
            variant: Some(variant.into()),
            language: Some("en".into()),
            threads: Some(threads),
            script: None,
        };
        let started = Instant::now();
        let transcript = engine.transcribe_file(wav.display().to_string(), options)?;
        totals.compute_s += started.elapsed().as_secs_f64();
        totals.audio_s += transcript.duration_s;
        totals.errors += distance(&words(&transcript.text), &words(&truth));
        totals.words += words(&truth).len();
    }
    Ok(totals)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let threads: u32 = std::env::args().nth(1).map_or(Ok(1), |t| t.parse())?;
    let data = std::env::temp_dir().join("copilot-bench-data");
    let engine = Engine::new(EngineConfig {
        models_dir: models_dir().display().to_string(),
        data_dir: data.display().to_string(),
    })?;
    let reference = reference()?;
    let clips = clips(&reference);
    let sizes = engine.model_status();
    println!(
        "threads {threads}; {} clips; WER against the true transcripts",
        clips.len()
    );
    println!(
        "{:<16} {:<5} {:>8} {:>8} {:>7} {:>12} {:>11}",
        "model", "type", "size MB", "our WER", "RTF", "fw f32 WER", "fw int8 WER"
    );
    for model in ["whisper-tiny-en", "whisper-base"] {
        for variant in ["f16", "q8_0"] {
            // The first run loads the model; time the second.
            run(&engine, &clips[..1], model, variant, threads)?;
            let t = run(&engine, &clips, model, variant, threads)?;
            let size = sizes
                .iter()
                .find(|s| s.model == model && s.variant.as_deref() == Some(variant))
                .and_then(|s| s.size_bytes)
                .unwrap_or(0);
            let pct = |e: usize| 100.0 * e as f64 / t.words.max(1) as f64;
            println!(
                "{:<16} {:<5} {:>8.1} {:>7.1}% {:>7.3} {:>11.1}% {:>10.1}%",
                model,
                variant,
                size as f64 / 1e6,
                pct(t.errors),
                t.compute_s / t.audio_s,
                pct(peer_errors(&reference, model, "float32")),
                pct(peer_errors(&reference, model, "int8")),
            );
        }
    }
    Ok(())
}
