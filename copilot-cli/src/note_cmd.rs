//! `copilot note`: a recorded call or a text transcript to its structured note, through the
//! same call path the apps use (labels, coach, note, saved with its outbox event).
//!
//! A `.txt` file is a transcript, one utterance per line, optionally prefixed `rep:` or
//! `customer:`; it has no clock, so each line is given the time it would take to say (see
//! [`spoken_seconds`]). Anything else is taken for audio.

use crate::understand::speaker_prefix;
use anyhow::{bail, Context, Result};
use clap::Args;
use copilot_core::{CallListener, CallOptions, CallResult, Engine, LiveEvent, Note, Speaker};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Speaking rate of English, in words per second.
const WORDS_PER_S: f64 = 2.5;
/// Speaking rate of Mandarin, in characters per second.
const HAN_PER_S: f64 = 4.0;
/// The pause between two lines of a transcript, in seconds.
const PAUSE_S: f64 = 0.6;

/// What `copilot note` takes.
#[derive(Args)]
pub struct NoteArgs {
    /// A recording (WAV, FLAC, MP3, M4A, Ogg) or a `.txt` transcript.
    input: PathBuf,
    #[arg(long)]
    json: bool,
    /// The customer's id in the history cache.
    #[arg(long)]
    customer: Option<String>,
    /// The rep's id.
    #[arg(long, default_value = "rep")]
    rep: String,
    /// The call's local date, YYYY-MM-DD (default: today); relative dates count from it.
    #[arg(long)]
    call_date: Option<String>,
    /// `zh` or `en`; detected when absent.
    #[arg(long)]
    language: Option<String>,
    /// The speech model by its manifest name.
    #[arg(long, default_value = "whisper-base")]
    asr_model: String,
    /// Decoding threads (default: the cores that are free now).
    #[arg(long)]
    threads: Option<u32>,
    /// Print the utterances with their labels and the coach's events and conclusions too.
    #[arg(long)]
    full: bool,
}

/// Writes the note of one call and prints it.
pub fn run(engine: &Arc<Engine>, args: NoteArgs) -> Result<bool> {
    let options = CallOptions {
        rep_id: args.rep.clone(),
        customer_id: args.customer.clone(),
        started_at: started_at(args.call_date.as_deref())?,
        language: args.language.clone(),
        consent_to_record: true,
        asr_model: Some(args.asr_model.clone()),
        threads: args.threads,
        script: None,
    };
    let is_text = args
        .input
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("txt"));
    let (result, events) = if is_text {
        note_transcript(engine, &args.input, options)?
    } else {
        let path = args.input.display().to_string();
        (engine.clone().note_recording(path, options)?, Vec::new())
    };
    print(&result, &events, &args)?;
    Ok(true)
}

/// The call's start: noon of the given local date (UTC offset 0), or now.
fn started_at(call_date: Option<&str>) -> Result<String> {
    let Some(date) = call_date else {
        return Ok(chrono::Local::now().to_rfc3339());
    };
    let day = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .with_context(|| format!("the call date '{date}' is not a YYYY-MM-DD date"))?;
    Ok(format!("{day}T12:00:00+00:00"))
}

/// Keeps a session's events for printing.
#[derive(Default)]
struct Collect(Mutex<Vec<LiveEvent>>);

impl CallListener for Collect {
    fn on_event(&self, event: LiveEvent) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(event);
    }
}

/// Plays a transcript into a session without audio, line by line, and finishes it.
fn note_transcript(
    engine: &Arc<Engine>,
    path: &Path,
    mut options: CallOptions,
) -> Result<(CallResult, Vec<LiveEvent>)> {
    let bytes =
        std::fs::read(path).with_context(|| format!("could not read {}", path.display()))?;
    let text = String::from_utf8_lossy(&bytes);
    if text.trim().is_empty() {
        bail!("the transcript {} holds no utterance", path.display());
    }
    options.consent_to_record = false;
    let listener = Arc::new(Collect::default());
    let session = engine.clone().start_call(options, listener.clone())?;
    let mut at_s = 0.0;
    for line in text.lines() {
        let (speaker, said) = speaker_prefix(line);
        if said.is_empty() {
            continue;
        }
        session.push_line(speaker, said.to_string(), Some(at_s))?;
        at_s += spoken_seconds(said) + PAUSE_S;
    }
    let result = session.finish()?;
    let events = std::mem::take(&mut *listener.0.lock().unwrap_or_else(|p| p.into_inner()));
    Ok((result, events))
}

/// About how long a line takes to say: Han characters at Mandarin's rate, words at English's.
fn spoken_seconds(text: &str) -> f64 {
    let han = text
        .chars()
        .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
        .count();
    let words = text
        .split(|c: char| !c.is_alphanumeric() || ('\u{4e00}'..='\u{9fff}').contains(&c))
        .filter(|w| !w.is_empty())
        .count();
    (han as f64 / HAN_PER_S + words as f64 / WORDS_PER_S).max(1.0)
}

fn print(result: &CallResult, events: &[LiveEvent], args: &NoteArgs) -> Result<()> {
    if args.json && args.full {
        let doc = serde_json::json!({
            "note": result.note,
            "utterances": result.utterances,
            "coaching": result.coaching,
            "events": events,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else if args.json {
        println!("{}", serde_json::to_string_pretty(&result.note)?);
    } else {
        if args.full {
            print_utterances(result, events);
        }
        print_note(&result.note);
    }
    Ok(())
}

fn print_utterances(result: &CallResult, events: &[LiveEvent]) {
    for u in &result.utterances {
        let label = match &u.classification.objection {
            Some(o) => format!("{}/{o}", u.classification.intent),
            None => u.classification.intent.clone(),
        };
        println!(
            "[{:>6.1}] {:<8} {:<28} {}",
            u.start_s,
            who(u.speaker),
            label,
            u.text
        );
    }
    let coached = events
        .iter()
        .filter(|e| matches!(e, LiveEvent::Coach { .. }))
        .count();
    println!("({coached} coach events)\n");
}

fn who(speaker: Option<Speaker>) -> &'static str {
    speaker.map_or("-", Speaker::as_str)
}

fn print_note(note: &Note) {
    let customer = note.customer.as_ref().map_or("-".to_string(), |c| {
        if c.in_cache {
            format!("{} ({})", c.name, c.id)
        } else {
            format!("{} (not in the cache)", c.id)
        }
    });
    println!(
        "call       {}  {}  {:.0} s  {}",
        note.call_id, note.started_at, note.duration_s, note.language
    );
    println!("customer   {customer}   rep {}", note.rep_id);
    println!("summary    {}", note.summary);
    for o in &note.objections {
        let answered = if o.answered { "answered" } else { "open" };
        println!("objection  {:<16} {answered:<8} \"{}\"", o.kind, o.quote);
    }
    for c in note.commitments.iter().chain(&note.next_steps) {
        let due = c.due_date.as_deref().unwrap_or("no date");
        println!("action     {:<8} {due:<10} {}", who(c.who), c.what);
    }
    println!(
        "follow-up  {}",
        note.follow_up_date.as_deref().unwrap_or("-")
    );
    for p in &note.prices {
        println!(
            "price      {} {}",
            p.amount,
            p.currency.as_deref().unwrap_or("(no currency)")
        );
    }
    for d in &note.discounts {
        println!("discount   {}% off", d.percent_off);
    }
    let products: Vec<&str> = note.products.iter().map(|p| p.id.as_str()).collect();
    println!("products   {}", products.join(", "));
    println!("competitors {}", note.competitors.join(", "));
    for c in &note.compliance {
        let said = if c.satisfied { "said" } else { "MISSED" };
        println!("compliance {:<18} {said}", c.item);
    }
    println!(
        "complete   {:.0}%  missing: {}",
        note.completeness * 100.0,
        note.missing.join(", ")
    );
}
