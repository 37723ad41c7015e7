//! Classification through the engine, on the real e5 model: lexicon swaps under concurrent
//! classification, and input that must never crash it.

mod common;

use common::{engine, shared_data};
use copilot_core::{CopilotError, EvidenceSource, Utterance};

fn utterance(text: &str) -> Utterance {
    Utterance {
        text: text.to_string(),
        speaker: None,
        previous: None,
    }
}

/// A small lexicon in which "switch" means `closing` (version A) or `agreement` (version B).
fn lexicon(version: &str, label: &str) -> String {
    format!(
        r#"format = 1
version = "{version}"
objection_intent = "objection"
fallback_intent = "other"
[classifier]
method = "nearest"
min_similarity = 0.8
temperature = 0.02
hit_confidence = 0.9
[negation]
cues = ["not"]
window = 3
[[label]]
id = "objection"
kind = "intent"
name = {{ en = "Objection", zh = "异议" }}
[[label]]
id = "other"
kind = "intent"
name = {{ en = "Other", zh = "其他" }}
[[label]]
id = "{label}"
kind = "intent"
name = {{ en = "L", zh = "L" }}
phrases = ["switch"]
"#
    )
}

#[test]
fn every_result_names_one_whole_lexicon_version_while_swapping() {
    let engine = engine(&shared_data());
    let a = lexicon("A", "closing");
    let b = lexicon("B", "agreement");
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let engine = engine.clone();
            std::thread::spawn(move || {
                for _ in 0..2000 {
                    let c = engine.classify(utterance("flip the switch")).unwrap();
                    let expected = match c.lexicon_version.as_str() {
                        "A" => "closing",
                        "B" => "agreement",
                        _ => "phrase from the default lexicon",
                    };
                    if c.lexicon_version == "A" || c.lexicon_version == "B" {
                        assert_eq!(c.intent, expected, "version {}", c.lexicon_version);
                    }
                }
            })
        })
        .collect();
    for i in 0..200 {
        let text = if i % 2 == 0 { a.clone() } else { b.clone() };
        engine.load_lexicon_text(text).unwrap();
    }
    for worker in workers {
        worker.join().unwrap();
    }
}

#[test]
fn a_bad_lexicon_is_refused_and_the_one_in_force_stays() {
    let engine = engine(&shared_data());
    let before = engine.lexicon_version();
    let bad = lexicon("C", "closing").replace("phrases = [\"switch\"]", "patterns = ['(']");
    match engine.load_lexicon_text(bad) {
        Err(CopilotError::InvalidInput { reason }) => {
            assert!(reason.contains("line 25"), "{reason}");
        }
        other => panic!("a bad lexicon was not refused: {other:?}"),
    }
    let missing = engine.load_lexicon("/nonexistent/lexicon.toml".into());
    assert!(matches!(missing, Err(CopilotError::InvalidInput { .. })));
    assert_eq!(engine.lexicon_version(), before);
}

#[test]
fn odd_input_gets_a_label_never_a_panic() {
    let engine = engine(&shared_data());
    let huge = "price ".repeat(200_000);
    let odd = [
        "",
        "   ",
        "\u{0}\u{1}\u{7}\u{1b}[31m",
        "😀😀🔥🙏",
        "Dies ist viel zu teuer für uns",
        "ありがとうございます",
        huge.as_str(),
        "\u{fffd}\u{fffd} bad bytes",
    ];
    for text in odd {
        let c = engine.classify(utterance(text)).unwrap();
        assert!((0.0..=1.0).contains(&c.confidence));
        assert!(!c.intent.is_empty());
    }
    let empty = engine.classify(utterance("")).unwrap();
    assert_eq!(empty.intent, "other");
    assert_eq!(empty.evidence.source, EvidenceSource::Fallback);
}

#[test]
fn labels_do_not_depend_on_who_speaks_and_replies_read_the_previous_line() {
    let engine = engine(&shared_data());
    let text = "this price really can't go any lower";
    let rep = engine
        .classify(Utterance {
            speaker: Some(copilot_core::Speaker::Rep),
            ..utterance(text)
        })
        .unwrap();
    let customer = engine
        .classify(Utterance {
            speaker: Some(copilot_core::Speaker::Customer),
            ..utterance(text)
        })
        .unwrap();
    assert_eq!(rep.objection.as_deref(), Some("price_final"));
    assert_eq!(rep.objection, customer.objection);
    let reply = engine
        .classify(Utterance {
            previous: Some("can we sign this week?".into()),
            ..utterance("no")
        })
        .unwrap();
    assert_eq!(reply.objection.as_deref(), Some("timing"));
    assert_eq!(reply.evidence.source, EvidenceSource::FollowUp);
    let negated = engine
        .classify(utterance("price is not the problem"))
        .unwrap();
    assert_ne!(negated.intent, "objection");
}
