//! whisper-rs on the converted models hears what faster-whisper hears on the original
//! CTranslate2 models: the converter is right when greedy decoding gives the same words.
//!
//! `fixtures/audio/reference.json` was made once by `fixtures/audio/make_reference.py` with
//! faster-whisper (float32, greedy, no fallback). tiny.en must give the same words on every clip;
//! base may differ by one word per clip (whisper.cpp and CTranslate2 round differently in F16).

#[path = "../../bench/src/wer.rs"]
mod wer;

mod common;

use common::{engine, root};
use copilot_core::TranscribeOptions;
use wer::{distance, words};

fn reference() -> serde_json::Value {
    let path = root().join("fixtures/audio/reference.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Transcribes every reference clip with one model and returns the largest word distance from
/// faster-whisper's float32 text, after checking the language and timing of each transcript.
fn worst_distance(model: &str, variant: &str) -> usize {
    let data = tempfile::tempdir().unwrap();
    let engine = engine(data.path());
    let reference = reference();
    let clips = reference["clips"].as_object().unwrap();
    assert!(clips.len() >= 3, "too few reference clips");
    let mut worst = 0;
    for (clip, by_model) in clips {
        let wav = root().join(format!("fixtures/audio/{clip}.wav"));
        let options = TranscribeOptions {
            asr_model: model.into(),
            variant: Some(variant.into()),
            language: Some("en".into()),
            threads: Some(1),
            script: None,
        };
        let ours = engine
            .transcribe_file(wav.display().to_string(), options)
            .unwrap();
        assert_eq!(ours.language, "en");
        assert!(ours.segments.iter().all(|s| s.start_s <= s.end_s));
        assert!(ours.segments.last().unwrap().end_s <= ours.duration_s + 0.5);

        let theirs = by_model[model]["float32"]["text"].as_str().unwrap();
        let d = distance(&words(&ours.text), &words(theirs));
        eprintln!(
            "{model} {variant} {clip}: {d} words apart\n  ours:   {}\n  theirs: {theirs}",
            ours.text
        );
        worst = worst.max(d);
    }
    worst
}

#[test]
fn tiny_en_f16_gives_faster_whispers_words() {
    assert_eq!(worst_distance("whisper-tiny-en", "f16"), 0);
}

#[test]
fn base_f16_is_within_one_word_of_faster_whisper() {
    assert!(worst_distance("whisper-base", "f16") <= 1);
}
