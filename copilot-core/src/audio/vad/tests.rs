//! The candle port against onnxruntime's numbers, and spans on real speech, noise and silence.

use super::*;
use crate::audio::read_all;
use std::path::PathBuf;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn model() -> Arc<SileroVad> {
    let dir =
        std::env::var_os("COPILOT_MODELS").map_or_else(|| root().join("models"), PathBuf::from);
    Arc::new(SileroVad::load(&dir.join("silero-vad-16k.safetensors")).unwrap())
}

fn clip(name: &str) -> Vec<f32> {
    if name == "silence-2s" {
        return vec![0.0; 32_000];
    }
    let path = root().join(format!("fixtures/audio/{name}.wav"));
    read_all(&path).unwrap().channels.remove(0)
}

fn probabilities(model: &SileroVad, samples: &[f32]) -> Vec<f32> {
    let mut state = model.start().unwrap();
    samples
        .chunks(WINDOW)
        .map(|w| {
            let mut window = w.to_vec();
            window.resize(WINDOW, 0.0);
            model.probability(&mut state, &window).unwrap()
        })
        .collect()
}

fn spans(model: &Arc<SileroVad>, samples: &[f32]) -> Vec<SpeechSpan> {
    let mut detector = VoiceDetector::new(model.clone(), SegmentRules::default()).unwrap();
    let mut spans = Vec::new();
    // Odd piece sizes, as a live session would push them.
    for piece in samples.chunks(1234) {
        spans.extend(detector.push(piece).unwrap());
    }
    spans.extend(detector.finish().unwrap());
    spans
}

/// The largest gap between the port's probabilities and onnxruntime's for one set of numbers
/// of `vad_reference.json`.
fn worst_gap(model: &SileroVad, numbers: &str) -> f32 {
    let path = root().join("fixtures/audio/vad_reference.json");
    let reference: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let mut worst = 0.0f32;
    for (name, expected) in reference[numbers].as_object().unwrap() {
        let expected: Vec<f32> = expected
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        let ours = probabilities(model, &clip(name));
        assert_eq!(ours.len(), expected.len(), "{name}");
        let diff = ours
            .iter()
            .zip(&expected)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        eprintln!(
            "{numbers} {name}: {} windows, max abs difference {diff:.2e}",
            ours.len()
        );
        worst = worst.max(diff);
    }
    worst
}

#[test]
fn probabilities_match_onnxruntime_to_1e3() {
    let worst = worst_gap(&model(), "clips");
    assert!(worst < 1e-3, "max abs difference {worst}");
}

#[test]
fn with_the_onnx_files_own_weights_it_matches_the_packaged_onnx_model() {
    let dir =
        std::env::var_os("COPILOT_MODELS").map_or_else(|| root().join("models"), PathBuf::from);
    let wheel = dir.join(".cache/wheels/silero_vad-6.2.3-py3-none-any.whl");
    let tensors = super::onnx_weights::load(&wheel);
    check_tensors(&tensors).unwrap();
    let model = SileroVad::from_tensors(&tensors).unwrap();
    let worst = worst_gap(&model, "clips_onnx_weights");
    assert!(worst < 1e-3, "max abs difference {worst}");
}

#[test]
fn speech_is_found_where_the_words_are() {
    let model = model();
    for name in ["jfk", "arctic-a0007", "librivox-dashwood"] {
        let samples = clip(name);
        let found = spans(&model, &samples);
        let speech: u64 = found.iter().map(|s| s.end - s.start).sum();
        eprintln!("{name}: {found:?}");
        assert!(!found.is_empty(), "{name}");
        assert!(
            speech as f64 > 0.5 * samples.len() as f64,
            "{name}: {speech} samples"
        );
        assert!(found.windows(2).all(|w| w[0].end <= w[1].start), "{name}");
        assert!(found.last().unwrap().end <= samples.len() as u64);
    }
}

#[test]
fn the_stereo_call_has_each_speaker_on_their_own_channel() {
    let model = model();
    let call = read_all(&root().join("fixtures/audio/call-stereo-24k.ogg")).unwrap();
    let rep = spans(&model, &call.channels[0]);
    let customer = spans(&model, &call.channels[1]);
    eprintln!("rep {rep:?}\ncustomer {customer:?}");
    assert!(!rep.is_empty() && rep.iter().all(|s| s.end_s() <= 4.5));
    assert!(!customer.is_empty() && customer.iter().all(|s| s.start_s() >= 4.7));
}

#[test]
fn silence_and_noise_give_no_speech() {
    let model = model();
    assert!(spans(&model, &clip("silence-2s")).is_empty());
    assert!(spans(&model, &clip("noise-white")).is_empty());
    let hum: Vec<f32> = (0..48_000)
        .map(|i| 0.3 * (i as f32 * 2.0 * std::f32::consts::PI * 50.0 / 16_000.0).sin())
        .collect();
    assert!(spans(&model, &hum).is_empty());
}

#[test]
fn a_wrong_model_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vad.safetensors");
    std::fs::write(&path, b"not a model").unwrap();
    let err = SileroVad::load(&path).err().unwrap();
    assert!(matches!(err, Error::ModelLoad { .. }), "{err:?}");
    let minilm = root().join("models/minilm-l6-v2.safetensors");
    if minilm.exists() {
        let err = SileroVad::load(&minilm).err().unwrap().to_string();
        assert!(err.contains("no tensor"), "{err}");
    }
}
