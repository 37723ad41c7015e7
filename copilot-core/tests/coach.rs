//! The coach through the exported surface: the playbook swap keeps the old one on refusal,
//! and the breaker's feedback, state and reset calls answer bad input with clear errors.

mod common;

use copilot_core::{CopilotError, SuggestionFate};

const DEFAULT_VERSION: &str = "2026.12-default.2";

fn default_playbook() -> String {
    let path = common::root().join("copilot-core/src/coach/default_playbook.toml");
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn a_refused_playbook_leaves_the_one_in_force() {
    let dir = tempfile::tempdir().unwrap();
    let engine = common::engine(dir.path());
    assert_eq!(engine.playbook_version(), DEFAULT_VERSION);
    let newer = default_playbook().replace(DEFAULT_VERSION, "2027.03-ops.2");
    assert_eq!(
        engine.load_playbook_text(newer.clone()).unwrap(),
        "2027.03-ops.2"
    );
    let bad_texts = [
        newer.replace("top = 3", "top = 0"),
        newer.replace("format = 1", "format = 2"),
        newer.replace("won = 27", "won = 99"),
        "not toml at all [".to_string(),
    ];
    for bad in bad_texts {
        let refused = engine.load_playbook_text(bad);
        assert!(
            matches!(refused, Err(CopilotError::InvalidInput { ref reason }) if reason.contains("line"))
        );
        assert_eq!(engine.playbook_version(), "2027.03-ops.2");
    }
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, b"format = 1\n\xff").unwrap();
    assert!(engine.load_playbook(file.display().to_string()).is_err());
    assert!(engine
        .load_playbook(dir.path().join("none.toml").display().to_string())
        .is_err());
    assert_eq!(engine.playbook_version(), "2027.03-ops.2");
}

#[test]
fn breaker_calls_answer_bad_input_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let engine = common::engine(dir.path());
    let unknown = engine.record_feedback("rep-li".into(), "nope".into(), SuggestionFate::Deleted);
    assert!(matches!(unknown, Err(CopilotError::NotFound { .. })));
    let reset = engine.reset_breaker("rep-li".into(), "price_too_high".into());
    assert!(
        matches!(reset, Err(CopilotError::InvalidInput { ref reason }) if reason.contains("not frozen"))
    );
    assert!(engine.breaker_states("rep-li".into()).unwrap().is_empty());
}
