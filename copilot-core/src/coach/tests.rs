//! Tests of a whole call through the coach: streaks and tasks, live events on the real e5
//! encoder, and the figures on the labelled fixtures (suggestion scenario, sentiment).

use super::call::{CallCoach, CallSetup, CoachContext};
use super::compliance::CatalogueProduct;
use super::playbook::Playbook;
use super::*;
use crate::error::Error;
use crate::nlu::encoder::Encoder;
use crate::store::Store;
use crate::{CallUtterance, Classification, Evidence, EvidenceSource};
use chrono::Duration;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn encoder() -> Arc<Encoder> {
    let dir =
        std::env::var_os("COPILOT_MODELS").map_or_else(|| root().join("models"), PathBuf::from);
    let weights = dir.join("e5-small-q4_0.gguf");
    Arc::new(Encoder::load(&weights, &dir.join("e5-small-tokenizer.json")).unwrap())
}

fn cache() -> PathBuf {
    root().join("target/tmp/coach-cache")
}

fn at(hours: f64) -> DateTime<FixedOffset> {
    let base = DateTime::parse_from_rfc3339("2026-12-01T09:00:00+08:00").unwrap();
    base + Duration::milliseconds((hours * 3.6e6) as i64)
}

fn said(
    seq: u32,
    speaker: Speaker,
    text: &str,
    intent: &str,
    objection: Option<&str>,
) -> CallUtterance {
    CallUtterance {
        seq,
        start_s: f64::from(seq) * 6.0,
        end_s: f64::from(seq) * 6.0 + 5.0,
        speaker: Some(speaker),
        text: text.to_string(),
        classification: Classification {
            text: text.to_string(),
            speaker: Some(speaker),
            intent: intent.to_string(),
            objection: objection.map(str::to_string),
            confidence: 0.95,
            evidence: Evidence {
                source: EvidenceSource::Phrase,
                text: String::new(),
                similarity: None,
            },
            lexicon_version: "test".into(),
        },
    }
}

fn catalogue() -> Vec<CatalogueProduct> {
    vec![CatalogueProduct {
        id: "US-M7".into(),
        names: vec!["便携式彩色超声诊断仪".into()],
        registration_no: Some("国械注准20193060100".into()),
    }]
}

fn setup(call: &str) -> CallSetup {
    CallSetup {
        call_id: call.into(),
        rep_id: "rep-li".into(),
        language: Some("zh".into()),
        catalogue: catalogue(),
    }
}

fn no_encoder() -> crate::error::Result<Arc<Encoder>> {
    Err(Error::Encoder("no encoder in this test".into()))
}

/// A call of rep utterances only (so no encoder is needed) with or without the number.
fn rep_call(store: &Store, call: &str, hours: f64, with_number: bool) -> CallCoaching {
    let playbook = Arc::new(Playbook::default_playbook().unwrap());
    let mut coach = CallCoach::new(playbook, setup(call));
    let ctx = CoachContext {
        store,
        encoder: &no_encoder,
        cache_dir: None,
        now: at(hours),
    };
    let mut lines = vec![
        said(0, Speaker::Rep, "您好，本次通话录音。", "greeting", None),
        said(
            1,
            Speaker::Rep,
            "这款便携式彩色超声诊断仪报价有效期三十天",
            "other",
            None,
        ),
    ];
    if with_number {
        lines.push(said(
            2,
            Speaker::Rep,
            "注册证号国械注准二零一九三零六零一零零",
            "other",
            None,
        ));
    }
    for u in &lines {
        coach.on_utterance(u, &ctx).unwrap();
    }
    coach.finish(&ctx, at(hours + 0.5)).unwrap()
}

fn tasks(store: &Store) -> Vec<serde_json::Value> {
    let records = store
        .read(|c| crate::store::outbox::pending(c, 1000))
        .unwrap();
    records
        .iter()
        .filter(|r| r.kind == "coaching_task")
        .map(|r| serde_json::from_str(&r.payload).unwrap())
        .collect()
}

#[test]
fn three_calls_without_the_number_raise_one_task_and_the_fourth_none() {
    let (_dir, store) = crate::store::tests::temp_store();
    let mut raised = Vec::new();
    for n in 1..=4 {
        let coaching = rep_call(&store, &format!("call-{n}"), f64::from(n), false);
        let missed = coaching
            .compliance
            .iter()
            .find(|c| c.item == "registration_no")
            .unwrap();
        assert!(!missed.satisfied);
        raised.push(coaching.tasks.len());
        assert_eq!(tasks(&store).len(), usize::from(n >= 3), "after call {n}");
    }
    assert_eq!(raised, [0, 0, 1, 0]);
    let task = &tasks(&store)[0];
    assert_eq!(task["item"], "registration_no");
    assert_eq!(task["rep_id"], "rep-li");
    assert_eq!(
        task["call_ids"],
        serde_json::json!(["call-1", "call-2", "call-3"])
    );
    assert_eq!(task["due_at"], at(3.5 + 4.0).to_rfc3339());
    // The other items were said in every call: no task for them.
    assert!(tasks(&store).iter().all(|t| t["item"] == "registration_no"));
}

#[test]
fn a_call_with_the_number_resets_the_streak_and_a_call_counts_once() {
    let (_dir, store) = crate::store::tests::temp_store();
    rep_call(&store, "a", 1.0, false);
    rep_call(&store, "b", 2.0, false);
    let with = rep_call(&store, "c", 3.0, true);
    let number = with
        .compliance
        .iter()
        .find(|c| c.item == "registration_no")
        .unwrap();
    assert!(number.satisfied);
    assert_eq!(number.at_s, Some(12.0));
    rep_call(&store, "d", 4.0, false);
    rep_call(&store, "e", 5.0, false);
    let again = rep_call(&store, "e", 5.1, false);
    assert!(!again.streaks_counted);
    assert!(
        tasks(&store).is_empty(),
        "c broke the streak; e counted once"
    );
    assert_eq!(rep_call(&store, "f", 6.0, false).tasks.len(), 1);
}

#[test]
fn a_call_with_no_customer_speech_has_no_sentiment_and_still_a_score() {
    let (_dir, store) = crate::store::tests::temp_store();
    let coaching = rep_call(&store, "quiet", 1.0, true);
    assert!(coaching.sentiment.is_empty());
    assert_eq!(coaching.score.sentiment_mean, None);
    assert_eq!(coaching.score.required_coverage, Some(1.0));
    assert_eq!(coaching.score.commitment_coverage, Some(0.0));
    assert!(coaching.score.overall > 0.0 && coaching.score.overall <= 100.0);
}

#[test]
fn live_events_suggest_without_repeats_and_freeze_to_questions() {
    let (_dir, store) = crate::store::tests::temp_store();
    let encoder = encoder();
    let source = || Ok(encoder.clone());
    let cache = cache();
    let playbook = Arc::new(Playbook::default_playbook().unwrap());
    let mut coach = CallCoach::new(playbook.clone(), setup("live-1"));
    let mut ctx = CoachContext {
        store: &store,
        encoder: &source,
        cache_dir: Some(&cache),
        now: at(0.0),
    };
    let objection = |seq, text: &str| {
        said(
            seq,
            Speaker::Customer,
            text,
            "objection",
            Some("price_too_high"),
        )
    };
    let first = coach
        .on_utterance(&objection(0, "你们这个超声也太贵了吧"), &ctx)
        .unwrap();
    let Some(CoachEvent::Suggestions {
        suggestions,
        scenario,
        ..
    }) = first.first()
    else {
        panic!("no suggestions: {first:?}");
    };
    assert_eq!(scenario, "price_too_high");
    assert_eq!(suggestions.len(), 3);
    assert!(suggestions
        .iter()
        .all(|s| s.language == "zh" && s.scenario == "price_too_high"));
    assert!(suggestions.windows(2).all(|w| w[0].score >= w[1].score));
    let second = coach
        .on_utterance(&objection(1, "还是觉得价格偏高"), &ctx)
        .unwrap();
    let Some(CoachEvent::Suggestions {
        suggestions: more, ..
    }) = second.first()
    else {
        panic!("no second suggestions: {second:?}");
    };
    assert_eq!(more.len(), 1, "four zh scripts: three seen, one left");
    assert!(suggestions.iter().all(|s| s.script_id != more[0].script_id));

    // The rep deletes two in a row: the next objection gets guiding questions instead.
    for s in suggestions.iter().take(2) {
        let key = ("rep-li", s.id.as_str());
        breaker::record_feedback(
            &store,
            key,
            SuggestionFate::Deleted,
            at(0.1),
            &playbook.breaker,
        )
        .unwrap();
    }
    let mut frozen = CallCoach::new(playbook.clone(), setup("live-2"));
    ctx.now = at(1.0);
    let events = frozen.on_utterance(&objection(0, "太贵了"), &ctx).unwrap();
    assert!(
        matches!(events.first(), Some(CoachEvent::GuidingQuestions { questions, .. }) if questions.len() == 3),
        "{events:?}"
    );
    // After the cool-down one trial suggestion.
    ctx.now = at(25.0);
    let mut trial = CallCoach::new(playbook, setup("live-3"));
    let events = trial.on_utterance(&objection(0, "太贵了"), &ctx).unwrap();
    assert!(
        matches!(events.first(), Some(CoachEvent::Suggestions { suggestions, .. }) if suggestions.len() == 1 && suggestions[0].trial),
        "{events:?}"
    );
}

/// The figure the issue asks for: on the evaluation split's objections, classified by the real
/// classifier, how often the top suggested script is of the labelled objection type.
#[test]
fn top_suggestion_scenario_on_the_labelled_objections() {
    let encoder = encoder();
    let source = || Ok(encoder.clone());
    // The engine tests' data folder keeps the lexicon's embeddings; sharing it saves computing
    // them twice in a run.
    let shared = root().join("target/tmp/classify-test-data/nlu");
    let nlu = crate::nlu::Nlu::new(Some(shared)).unwrap();
    let playbook = Playbook::default_playbook().unwrap();
    let index = suggest::index(&playbook, &encoder, Some(&cache())).unwrap();
    let text = std::fs::read_to_string(root().join("fixtures/utterances/eval.tsv")).unwrap();
    let (mut right, mut total) = (0usize, 0usize);
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [language, "objection", gold, utterance, ..] = cols.as_slice() else {
            continue;
        };
        let u = crate::Utterance {
            text: utterance.to_string(),
            speaker: Some(Speaker::Customer),
            previous: cols.get(4).map(|p| p.to_string()),
        };
        let c = nlu.classify(&u, &source).unwrap();
        let scenario = c.objection.unwrap_or(c.intent);
        let query = encoder.embed(utterance).unwrap();
        let ranked = suggest::rank(
            &playbook,
            &index,
            &query,
            (&scenario, *language),
            &Default::default(),
        );
        let top = ranked.first().and_then(|r| playbook.scripts.get(r.script));
        total += 1;
        right += usize::from(top.is_some_and(|s| s.scenario == *gold));
    }
    let share = right as f64 / total as f64;
    println!("top suggestion from the labelled scenario: {right}/{total} = {share:.3}");
    assert!(total >= 500);
    assert!(share >= 0.8, "{share:.3}");
}

/// Sentiment accuracy on the held-out labelled lines.
#[test]
fn sentiment_accuracy_on_the_held_out_lines() {
    let encoder = encoder();
    let playbook = Playbook::default_playbook().unwrap();
    let index = suggest::index(&playbook, &encoder, Some(&cache())).unwrap();
    let text = std::fs::read_to_string(root().join("fixtures/utterances/sentiment.tsv")).unwrap();
    let (mut right, mut total) = (0usize, 0usize);
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let [_, gold, utterance] = line.split('\t').collect::<Vec<_>>()[..] else {
            continue;
        };
        let (_, class) = suggest::sentiment(&playbook, &index, &encoder.embed(utterance).unwrap());
        total += 1;
        right += usize::from(playbook.classes[class].id == gold);
    }
    let accuracy = right as f64 / total as f64;
    println!("sentiment accuracy: {right}/{total} = {accuracy:.3}");
    assert_eq!(total, 60);
    assert!(accuracy >= 0.6, "{accuracy:.3}");
}
