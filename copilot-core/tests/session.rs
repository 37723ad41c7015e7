//! The live call session through the engine: lines and streamed audio in, events out in
//! order, the journal, and every misuse a clear error.

mod common;

use common::{engine, root, shared_data};
use copilot_core::{CallListener, CallOptions, CopilotError, LiveEvent, Speaker};
use std::sync::{Arc, Mutex};

/// Keeps every event it is given.
#[derive(Default)]
struct Events(Mutex<Vec<LiveEvent>>);

impl CallListener for Events {
    fn on_event(&self, event: LiveEvent) {
        self.0.lock().unwrap().push(event);
    }
}

fn options(consent: bool, model: Option<&str>) -> CallOptions {
    CallOptions {
        rep_id: "rep-li".into(),
        customer_id: Some("C-00002".into()),
        started_at: "2026-11-18T10:00:00+08:00".into(),
        language: Some("en".into()),
        consent_to_record: consent,
        asr_model: model.map(str::to_string),
        threads: Some(1),
        script: None,
    }
}

#[test]
fn lines_come_back_labelled_in_order_and_the_call_finishes_once() {
    let engine = engine(&shared_data());
    let events = Arc::new(Events::default());
    let call = engine
        .clone()
        .start_call(options(false, None), events.clone())
        .unwrap();
    let lines = [
        (Speaker::Rep, "Good morning, thanks for taking the time."),
        (Speaker::Customer, "價格太貴了，能不能便宜一點？"),
        (Speaker::Customer, "This is far too expensive for us."),
    ];
    for (i, (speaker, text)) in lines.iter().enumerate() {
        call.push_line(Some(*speaker), text.to_string(), Some(i as f64 * 3.0))
            .unwrap();
    }
    let result = call.finish().unwrap();
    let said = &result.utterances;
    assert_eq!(said.len(), 3);
    assert_eq!(
        said[1].text, "价格太贵了，能不能便宜一点？",
        "Chinese comes back Simplified"
    );
    assert_eq!(said[2].classification.intent, "objection");
    let note = &result.note;
    assert_eq!(note.call_id, call.call_id());
    assert!(
        note.objections.iter().any(|o| o.kind == "price_too_high"),
        "{:?}",
        note.objections
    );
    assert_eq!(
        note.language, "en",
        "the language the call was started with"
    );
    let events = events.0.lock().unwrap();
    let seqs: Vec<u32> = events
        .iter()
        .filter_map(|e| match e {
            LiveEvent::Utterance { utterance } => Some(utterance.seq),
            _ => None,
        })
        .collect();
    assert_eq!(seqs, vec![0, 1, 2]);
    let again = call.finish();
    assert!(matches!(again, Err(CopilotError::InvalidInput { .. })));
    let late = call.push_line(None, "hello".into(), None);
    assert!(matches!(late, Err(CopilotError::InvalidInput { .. })));
    let open = engine.unfinished_calls().unwrap();
    assert!(open.iter().all(|c| c.call_id != call.call_id()));
}

#[test]
fn a_dropped_session_leaves_its_call_in_the_journal() {
    let engine = engine(&shared_data());
    let call = engine
        .clone()
        .start_call(options(false, None), Arc::new(Events::default()))
        .unwrap();
    let id = call.call_id();
    call.push_line(
        Some(Speaker::Customer),
        "We need to ask our director first.".into(),
        Some(1.0),
    )
    .unwrap();
    drop(call);
    wait_journaled(&engine, &id, 1);
    let found = engine
        .unfinished_calls()
        .unwrap()
        .into_iter()
        .find(|c| c.call_id == id)
        .unwrap();
    assert_eq!(found.utterances, 1);
    assert_eq!(found.customer_id.as_deref(), Some("C-00002"));
}

#[test]
fn bad_options_and_bad_audio_are_clear_errors() {
    let engine = engine(&shared_data());
    let listener = Arc::new(Events::default());
    let mut bad = options(false, None);
    bad.started_at = "next tuesday".into();
    let err = engine.clone().start_call(bad, listener.clone()).err();
    assert!(matches!(err, Some(CopilotError::InvalidInput { .. })));
    let mut bad = options(false, None);
    bad.rep_id = "  ".into();
    assert!(engine.clone().start_call(bad, listener.clone()).is_err());

    let chat = engine
        .clone()
        .start_call(options(false, None), listener.clone())
        .unwrap();
    let refused = chat.push_audio(vec![0.0; 160], 16_000, 1);
    assert!(
        matches!(refused, Err(CopilotError::InvalidInput { .. })),
        "no consent, no audio"
    );
    assert!(chat.push_line(None, "x".into(), Some(f64::NAN)).is_err());

    let call = engine
        .clone()
        .start_call(options(true, Some("whisper-tiny-en")), listener)
        .unwrap();
    assert!(
        call.push_audio(vec![0.0; 3], 16_000, 2).is_err(),
        "half a frame"
    );
    assert!(call.push_audio(vec![f32::NAN; 2], 16_000, 1).is_err());
    assert!(
        call.push_audio(vec![0.0; 2], 4_000, 1).is_err(),
        "rate too low"
    );
    call.push_audio(vec![0.0; 1600], 16_000, 1).unwrap();
    assert!(
        call.push_audio(vec![0.0; 1600], 44_100, 1).is_err(),
        "format changed"
    );
    let silent = call.finish().unwrap();
    assert!(silent.utterances.is_empty(), "silence gives no utterance");
    assert!(silent.note.summary.is_empty() && silent.note.objections.is_empty());
    assert!(
        silent.note.missing.contains(&"summary".to_string()),
        "an empty call's note says what it lacks: {:?}",
        silent.note.missing
    );
}

#[test]
fn streamed_speech_gives_partials_then_final_text() {
    let engine = engine(&shared_data());
    let events = Arc::new(Events::default());
    let call = engine
        .clone()
        .start_call(options(true, Some("whisper-tiny-en")), events.clone())
        .unwrap();
    let mut reader = hound::WavReader::open(root().join("fixtures/audio/jfk.wav")).unwrap();
    let samples: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
    // 100 ms chunks at real-time pace would take 11 s; a short pause per chunk lets the worker
    // find idle moments for partials without making the test slow.
    for chunk in samples.chunks(1_600) {
        call.push_pcm16(chunk.to_vec(), 16_000, 1).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let said = call.finish().unwrap().utterances;
    let text = said
        .iter()
        .map(|u| u.text.to_lowercase().replace(['!', '.', ','], ""))
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        text.contains("ask not what your country can do for you"),
        "{text}"
    );
    assert!(
        said.iter().all(|u| u.speaker.is_none()),
        "mono audio has no speaker"
    );
    let events = events.0.lock().unwrap();
    let last_final = events
        .iter()
        .rposition(|e| matches!(e, LiveEvent::Utterance { .. }))
        .unwrap();
    assert!(
        events[..last_final]
            .iter()
            .any(|e| matches!(e, LiveEvent::Partial { .. })),
        "partial text arrives before the final text"
    );
    assert!(!events
        .iter()
        .any(|e| matches!(e, LiveEvent::Problem { .. })));
}

#[test]
fn an_unfinished_call_is_resumed_or_noted_from_its_journal() {
    let engine = engine(&shared_data());
    let start = |engine: &Arc<copilot_core::Engine>| {
        let call = engine
            .clone()
            .start_call(options(false, None), Arc::new(Events::default()))
            .unwrap();
        call.push_line(
            Some(Speaker::Customer),
            "Your price is too high for our budget.".into(),
            Some(1.0),
        )
        .unwrap();
        let id = call.call_id();
        drop(call);
        wait_journaled(engine, &id, 1);
        id
    };

    let noted = start(&engine);
    let result = engine
        .clone()
        .finish_unfinished_call(noted.clone())
        .unwrap();
    assert_eq!(result.utterances.len(), 1);
    assert!(
        !result.note.objections.is_empty(),
        "the journal's objection is in the note"
    );
    let again = engine.clone().finish_unfinished_call(noted);
    assert!(
        matches!(again, Err(CopilotError::InvalidInput { .. })),
        "a call ends once"
    );

    let resumed = start(&engine);
    let events = Arc::new(Events::default());
    let call = engine
        .clone()
        .resume_call(resumed.clone(), events.clone())
        .unwrap();
    assert_eq!(call.call_id(), resumed);
    call.push_line(
        Some(Speaker::Rep),
        "I will send you the quotation by Friday.".into(),
        Some(0.0),
    )
    .unwrap();
    let result = call.finish().unwrap();
    assert_eq!(result.utterances.len(), 2);
    assert!(
        result.utterances[1].start_s >= result.utterances[0].end_s,
        "new lines come after the journal"
    );
    let unknown = engine.clone().finish_unfinished_call("call-nope".into());
    assert!(matches!(unknown, Err(CopilotError::InvalidInput { .. })));
}

/// Waits until the journal holds `count` utterances of call `id` (the first classification on
/// a new data folder may take a while: the lexicon's embeddings).
fn wait_journaled(engine: &copilot_core::Engine, id: &str, count: u32) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
    loop {
        let open = engine.unfinished_calls().unwrap();
        let said = open
            .iter()
            .find(|c| c.call_id == id)
            .map_or(0, |c| c.utterances);
        if said >= count || std::time::Instant::now() > deadline {
            assert_eq!(said, count);
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn odd_calls_still_give_a_defined_note() {
    let engine = engine(&shared_data());
    let mut unknown = options(false, None);
    unknown.customer_id = Some("C-NOT-IN-CACHE".into());
    unknown.language = None;
    let call = engine
        .clone()
        .start_call(unknown, Arc::new(Events::default()))
        .unwrap();
    // No speaker prefixes, no customer, a date nobody can resolve, a bare amount.
    for (i, text) in [
        "Let's talk again sometime soon.",
        "The price would be 2,400 for the set.",
    ]
    .iter()
    .enumerate()
    {
        call.push_line(None, text.to_string(), Some(i as f64 * 4.0))
            .unwrap();
    }
    let note = call.finish().unwrap().note;
    let customer = note.customer.expect("the id given is kept");
    assert_eq!(customer.id, "C-NOT-IN-CACHE");
    assert!(!customer.in_cache);
    assert_eq!(note.language, "en", "read from the text");
    assert_eq!(note.follow_up_date, None);
    assert_eq!(note.prices.len(), 1);
    assert_eq!(
        note.prices[0].currency, None,
        "an English call names its currency or has none"
    );
    assert_eq!(note.amounts_without_currency, 1);
    assert!(
        note.missing.contains(&"speakers".to_string()),
        "{:?}",
        note.missing
    );
    assert!(note.completeness < 1.0);
}
