//! Whole-file transcription through voice detection: other formats and rates, the stereo call
//! with its two speakers, and silence and noise that must give no text. Runs tiny.en on one
//! thread, the real pinned models.

#[path = "../../bench/src/wer.rs"]
mod wer;

mod common;

use common::{engine, root};
use copilot_core::{Engine, Speaker, TranscribeOptions, Transcript};
use std::path::Path;
use wer::{distance, words};

fn transcribe(engine: &Engine, path: &Path) -> Transcript {
    let options = TranscribeOptions {
        asr_model: "whisper-tiny-en".into(),
        variant: Some("f16".into()),
        language: Some("en".into()),
        threads: Some(1),
        script: None,
    };
    engine
        .transcribe_file(path.display().to_string(), options)
        .unwrap()
}

fn truth(clip: &str) -> Vec<String> {
    words(&std::fs::read_to_string(root().join(format!("fixtures/audio/{clip}.txt"))).unwrap())
}

#[test]
fn compressed_and_resampled_files_give_the_words() {
    let data = tempfile::tempdir().unwrap();
    let engine = engine(data.path());
    let cases = [
        ("jfk-44k.m4a", "jfk", 11.0),
        ("librivox-amiable-22k.mp3", "librivox-amiable", 9.34),
        ("arctic-a0007-8k.flac", "arctic-a0007", 4.0),
    ];
    for (file, clip, duration) in cases {
        let t = transcribe(&engine, &root().join("fixtures/audio").join(file));
        let d = distance(&words(&t.text), &truth(clip));
        eprintln!("{file}: {d} word errors: {}", t.text);
        assert!(
            (t.duration_s - duration).abs() < 0.06,
            "{file}: {}",
            t.duration_s
        );
        assert!(d <= 1, "{file}: {d} word errors");
        assert!(t.segments.iter().all(|s| s.speaker.is_none()));
    }
}

#[test]
fn the_stereo_call_keeps_who_said_what() {
    let data = tempfile::tempdir().unwrap();
    let engine = engine(data.path());
    let t = transcribe(&engine, &root().join("fixtures/audio/call-stereo-24k.ogg"));
    for s in &t.segments {
        eprintln!(
            "{:5.2}-{:5.2} {:?}: {}",
            s.start_s, s.end_s, s.speaker, s.text
        );
    }
    let said = |who: Speaker| {
        let text: Vec<&str> = t
            .segments
            .iter()
            .filter(|s| s.speaker == Some(who))
            .map(|s| s.text.as_str())
            .collect();
        words(&text.join(" "))
    };
    assert!(distance(&said(Speaker::Rep), &truth("arctic-a0007")) <= 1);
    assert!(distance(&said(Speaker::Customer), &truth("jfk")) <= 1);
    assert!(t.segments.windows(2).all(|w| w[0].start_s <= w[1].start_s));
    let customer_start = t
        .segments
        .iter()
        .find(|s| s.speaker == Some(Speaker::Customer))
        .map(|s| s.start_s);
    assert!(
        customer_start.is_some_and(|s| s >= 4.5),
        "{customer_start:?}"
    );
    assert!((t.duration_s - 16.0).abs() < 0.01);
}

fn write_wav(path: &Path, samples: impl Iterator<Item = f32>) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for s in samples {
        w.write_sample((s * 32767.0) as i16).unwrap();
    }
    w.finalize().unwrap();
}

#[test]
fn silence_noise_and_music_give_no_text() {
    let data = tempfile::tempdir().unwrap();
    let engine = engine(data.path());
    let silence = data.path().join("silence.wav");
    write_wav(&silence, std::iter::repeat_n(0.0, 16_000 * 10));
    // A chord that changes every half second, like a hold tune.
    let music = data.path().join("music.wav");
    let notes = [261.6f32, 329.6, 392.0, 523.3, 440.0, 349.2];
    write_wav(
        &music,
        (0..16_000 * 8).map(|i| {
            let t = i as f32 / 16_000.0;
            let root = notes[(i / 8_000) % notes.len()];
            let tone = |f: f32| (2.0 * std::f32::consts::PI * f * t).sin();
            0.2 * (tone(root) + tone(root * 1.25) + tone(root * 1.5)) / 3.0
        }),
    );
    let noise = root().join("fixtures/audio/noise-white.wav");
    for path in [&silence, &music, &noise] {
        let t = transcribe(&engine, path);
        assert_eq!(t.text, "", "{}: {}", path.display(), t.text);
        assert!(t.segments.is_empty());
        assert_eq!(t.language, "en");
    }
}

#[test]
fn bad_audio_is_an_audio_error() {
    let data = tempfile::tempdir().unwrap();
    let engine = engine(data.path());
    let text = data.path().join("notes.wav");
    std::fs::write(&text, "not audio\n").unwrap();
    let empty = data.path().join("empty.m4a");
    std::fs::write(&empty, b"").unwrap();
    for path in [text, empty] {
        let options = TranscribeOptions {
            asr_model: "whisper-tiny-en".into(),
            threads: Some(1),
            script: None,
            ..TranscribeOptions::default()
        };
        let err = engine
            .transcribe_file(path.display().to_string(), options)
            .unwrap_err();
        assert!(
            matches!(err, copilot_core::CopilotError::Audio { .. }),
            "{err:?}"
        );
    }
}
