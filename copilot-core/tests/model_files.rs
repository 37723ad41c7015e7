//! A model file that is missing, cut short, of the wrong kind or with one flipped byte shows as
//! such in the engine's model table and is a clear error when loaded, never a crash.
//!
//! The tests copy the smallest pinned model (Whisper tiny.en, Q8_0) out of the fetched models
//! folder into a folder of their own, so the shared folder is never touched.

mod common;

use copilot_core::{CopilotError, Engine, EngineConfig, ModelState, TranscribeOptions};
use std::path::Path;
use std::sync::Arc;

const FILE: &str = "whisper-tiny-en-q8_0.bin";
const VAD_FILE: &str = "silero-vad-16k.safetensors";

fn fixture_wav() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/audio/jfk.wav");
    path.display().to_string()
}

/// An engine over a private models folder holding a copy of the tiny.en Q8_0 model and of the
/// voice activity model that transcription also needs.
fn engine_with_copy(root: &Path) -> Arc<Engine> {
    let models = root.join("models");
    std::fs::create_dir_all(&models).unwrap();
    for file in [FILE, VAD_FILE] {
        let source = common::models_dir().join(file);
        assert!(
            source.exists(),
            "{} is missing: run models/fetch",
            source.display()
        );
        std::fs::copy(source, models.join(file)).unwrap();
    }
    engine(root)
}

fn engine(root: &Path) -> Arc<Engine> {
    Engine::new(EngineConfig {
        models_dir: root.join("models").display().to_string(),
        data_dir: root.join("data").display().to_string(),
    })
    .unwrap()
}

fn tiny_q8() -> TranscribeOptions {
    TranscribeOptions {
        asr_model: "whisper-tiny-en".into(),
        variant: Some("q8_0".into()),
        language: Some("en".into()),
        threads: Some(1),
        script: None,
    }
}

fn state_of(engine: &Engine) -> (ModelState, Option<String>) {
    let row = engine
        .model_status()
        .into_iter()
        .find(|s| s.path.ends_with(FILE))
        .unwrap();
    (row.state, row.reason)
}

fn load_error(engine: &Engine) -> String {
    match engine.transcribe_file(fixture_wav(), tiny_q8()) {
        Err(CopilotError::Model { reason }) => reason,
        other => panic!("expected a model error, got {other:?}"),
    }
}

fn flip_byte(path: &Path, at: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[at] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn a_flipped_byte_is_a_mismatch_and_refused_at_load() {
    let root = tempfile::tempdir().unwrap();
    let engine = engine_with_copy(root.path());
    assert_eq!(state_of(&engine).0, ModelState::Ok);

    let path = root.path().join("models").join(FILE);
    let middle = std::fs::metadata(&path).unwrap().len() as usize / 2;
    flip_byte(&path, middle);
    let (state, reason) = state_of(&engine);
    assert_eq!(state, ModelState::Mismatch);
    assert!(reason.unwrap().contains("sha256"));

    let reason = load_error(&engine);
    assert!(reason.contains("not the pinned file"), "{reason}");
    assert!(reason.contains("sha256"), "{reason}");
}

#[test]
fn a_file_changed_after_a_good_load_is_hashed_again() {
    let root = tempfile::tempdir().unwrap();
    let engine = engine_with_copy(root.path());
    engine.transcribe_file(fixture_wav(), tiny_q8()).unwrap();
    drop(engine);

    // Modification times have a coarse clock on some file systems; make the edit visibly later.
    std::thread::sleep(std::time::Duration::from_millis(50));
    let path = root.path().join("models").join(FILE);
    flip_byte(&path, 4096);
    let reason = load_error(&self::engine(root.path()));
    assert!(reason.contains("sha256"), "{reason}");
}

#[test]
fn missing_truncated_and_foreign_files_are_clear_errors() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("models")).unwrap();
    let engine = engine(root.path());
    assert_eq!(state_of(&engine).0, ModelState::Missing);
    let reason = load_error(&engine);
    assert!(
        reason.contains("missing") && reason.contains("models/fetch"),
        "{reason}"
    );

    let path = root.path().join("models").join(FILE);
    std::fs::write(&path, b"lmgg but far too short").unwrap();
    assert!(load_error(&engine).contains("size is 22 bytes"));

    let pinned_size = std::fs::metadata(common::models_dir().join(FILE))
        .unwrap()
        .len();
    std::fs::write(&path, vec![0u8; pinned_size as usize]).unwrap();
    assert!(load_error(&engine).contains("header"));
}

#[test]
fn an_unknown_model_or_variant_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let engine = engine(root.path());
    let mut options = tiny_q8();
    options.variant = Some("q3_k".into());
    let err = engine.transcribe_file(fixture_wav(), options).unwrap_err();
    assert!(err.to_string().contains("no 'q3_k' variant"), "{err}");

    let mut options = tiny_q8();
    options.asr_model = "whisper-huge".into();
    let err = engine.transcribe_file(fixture_wav(), options).unwrap_err();
    assert!(err.to_string().contains("whisper-huge"), "{err}");
}
