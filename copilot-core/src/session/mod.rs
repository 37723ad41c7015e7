//! The live call session: audio chunks, chat messages or transcript lines go in; live events
//! come out to the app's listener; `finish` returns what the call produced.
//!
//! Pushing never blocks on recognition: each session has one worker thread that owns the
//! recogniser and does the decoding, classification and journaling in arrival order, so the
//! app's audio thread or UI thread only copies samples into a queue. Final utterances are
//! journaled in the database as they settle; a session whose process died is listed by
//! [`crate::Engine::unfinished_calls`] at the next start.

mod call;
mod worker;

pub use call::CallResult;

use crate::coach::CoachEvent;
use crate::error::{Error, Result};
use crate::store::journal::{self, CallRecord, JournalLine};
use crate::{CallUtterance, ChineseScript, CopilotError, Engine, Speaker};
use call::Call;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// How a call or chat starts.
#[derive(Debug, Clone, uniffi::Record, serde::Serialize, serde::Deserialize)]
pub struct CallOptions {
    /// The rep on the call (any id the app uses; a new one is remembered).
    pub rep_id: String,
    /// The customer's id in the history cache, if known. An id the cache does not hold is kept
    /// as given, and the note says the customer is not in the cache.
    pub customer_id: Option<String>,
    /// When the call started, RFC 3339 with the rep's offset (`2026-11-20T10:30:00+08:00`).
    /// The offset gives the local date that "next Friday" is counted from.
    pub started_at: String,
    /// `zh` or `en` (any Whisper language code); null detects it from the first speech.
    pub language: Option<String>,
    /// Whether the customer agreed to the call being recorded. Without consent the session
    /// takes chat messages and typed lines but refuses audio.
    pub consent_to_record: bool,
    /// The speech model by its manifest name; null means `whisper-base`.
    pub asr_model: Option<String>,
    /// Decoding threads; null uses the cores that are free.
    pub threads: Option<u32>,
    /// The script of Chinese text the session writes; null means Simplified.
    pub script: Option<ChineseScript>,
}

/// What a live session tells the app, in the order it happened.
#[derive(Debug, Clone, uniffi::Enum, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LiveEvent {
    /// Text of speech still in progress; later partials and then a final utterance replace it.
    Partial {
        speaker: Option<Speaker>,
        start_s: f64,
        text: String,
    },
    /// A final utterance with its label; it will not change.
    Utterance { utterance: CallUtterance },
    /// What the coach says about the utterance just before: suggested replies, guiding
    /// questions, a compliance item said, an alert.
    Coach { event: CoachEvent },
    /// Something failed while the call ran (a chunk that could not be decoded); the call goes
    /// on with what it has.
    Problem { reason: String },
}

/// Receives a session's live events. Called on the session's own thread, never on the thread
/// that pushed the audio: hop to the UI thread before touching views.
#[uniffi::export(with_foreign)]
pub trait CallListener: Send + Sync {
    /// One event; return quickly, the next events wait for it.
    fn on_event(&self, event: LiveEvent);
}

/// What the worker is asked to do, in order.
enum Command {
    Audio {
        samples: Vec<f32>,
        sample_rate: u32,
        channels: usize,
    },
    Line {
        speaker: Option<Speaker>,
        text: String,
        at_s: Option<f64>,
    },
    Finish(mpsc::Sender<Result<CallResult>>),
}

/// One live call or chat. Create it with [`Engine::start_call`].
#[derive(uniffi::Object)]
pub struct CallSession {
    id: String,
    consent: bool,
    /// `None` once the call is finished.
    queue: Mutex<Option<mpsc::Sender<Command>>>,
    /// Commands sent and not yet taken by the worker.
    backlog: Arc<AtomicUsize>,
    worker: Mutex<Option<JoinHandle<()>>>,
    /// The audio format of the first chunk; every later chunk must match it.
    format: Mutex<Option<(u32, usize)>>,
}

#[uniffi::export]
impl Engine {
    /// Starts a call or chat session. With consent to record, the speech models load now, so
    /// a missing model is reported here and not in the middle of the call.
    pub fn start_call(
        self: Arc<Self>,
        options: CallOptions,
        listener: Arc<dyn CallListener>,
    ) -> Result<Arc<CallSession>, CopilotError> {
        Ok(start(self, options, listener)?)
    }
}

fn start(
    engine: Arc<Engine>,
    options: CallOptions,
    listener: Arc<dyn CallListener>,
) -> Result<Arc<CallSession>> {
    check_options(&options)?;
    let recognition = if options.consent_to_record {
        Some(engine.live_models(&options)?)
    } else {
        None
    };
    let record = engine.open_call(&options)?;
    let call = Call::resume(engine, record, options.script.unwrap_or_default(), &[])?;
    spawn(call, options.consent_to_record, listener, recognition)
}

/// Runs a call on its own thread and hands back its session.
fn spawn(
    call: Call,
    consent: bool,
    listener: Arc<dyn CallListener>,
    recognition: Option<worker::LiveModels>,
) -> Result<Arc<CallSession>> {
    let (queue, inbox) = mpsc::channel();
    let id = call.id().to_string();
    let backlog = Arc::new(AtomicUsize::new(0));
    let worker = worker::Worker::new(call, listener, recognition, backlog.clone());
    let handle = std::thread::Builder::new()
        .name("copilot-call".into())
        .spawn(move || worker.run(inbox))
        .map_err(|e| Error::InvalidInput(format!("could not start the call's thread: {e}")))?;
    tracing::debug!(call = %id, "call started");
    Ok(Arc::new(CallSession {
        id,
        consent,
        queue: Mutex::new(Some(queue)),
        backlog,
        worker: Mutex::new(Some(handle)),
        format: Mutex::new(None),
    }))
}

/// Refuses options that cannot describe a call, before anything is written.
fn check_options(options: &CallOptions) -> Result<()> {
    let rep = options.rep_id.trim();
    if rep.is_empty() || rep.chars().count() > 100 || rep.chars().any(char::is_control) {
        return Err(Error::InvalidInput(
            "the rep id must be 1 to 100 printable characters".into(),
        ));
    }
    if chrono::DateTime::parse_from_rfc3339(&options.started_at).is_err() {
        return Err(Error::InvalidInput(format!(
            "the call start '{}' is not an RFC 3339 instant with an offset, such as \
             2026-11-20T10:30:00+08:00",
            options.started_at.chars().take(40).collect::<String>()
        )));
    }
    if let Some(customer) = &options.customer_id {
        if customer.trim().is_empty() || customer.chars().count() > 100 {
            return Err(Error::InvalidInput(
                "the customer id must be 1 to 100 characters, or null".into(),
            ));
        }
    }
    Ok(())
}

#[uniffi::export]
impl CallSession {
    /// The call's id, as the note and the journal name it.
    pub fn call_id(&self) -> String {
        self.id.clone()
    }

    /// Queues interleaved audio samples in -1..1 (`channels` values per frame, at
    /// `sample_rate` Hz; stereo means the rep on channel 0 and the customer on channel 1).
    /// Returns at once; recognition runs on the session's thread. Every chunk of a call must
    /// have the first chunk's rate and channel count.
    pub fn push_audio(
        &self,
        samples: Vec<f32>,
        sample_rate: u32,
        channels: u32,
    ) -> Result<(), CopilotError> {
        Ok(self.audio(samples, sample_rate, channels)?)
    }

    /// As [`CallSession::push_audio`], for 16-bit PCM as phone recorders deliver it.
    pub fn push_pcm16(
        &self,
        samples: Vec<i16>,
        sample_rate: u32,
        channels: u32,
    ) -> Result<(), CopilotError> {
        let samples = samples
            .into_iter()
            .map(|s| f32::from(s) / 32_768.0)
            .collect();
        Ok(self.audio(samples, sample_rate, channels)?)
    }

    /// Queues a chat message or a transcript line. `at_s` is its time in seconds from the
    /// call's start; null means now by the session's clock.
    pub fn push_line(
        &self,
        speaker: Option<Speaker>,
        text: String,
        at_s: Option<f64>,
    ) -> Result<(), CopilotError> {
        if at_s.is_some_and(|t| !t.is_finite() || t < 0.0) {
            return Err(Error::InvalidInput(
                "a line's time must be a number of seconds, 0 or more".into(),
            )
            .into());
        }
        Ok(self.send(Command::Line {
            speaker,
            text,
            at_s,
        })?)
    }

    /// Ends the call: waits for the audio still queued, writes the note (saved with its outbox
    /// event) and returns it with the call's final utterances and the coach's conclusions. A
    /// second call is an error. When writing the note fails, the call stays in the journal and
    /// [`Engine::finish_unfinished_call`] can write it later.
    pub fn finish(&self) -> Result<CallResult, CopilotError> {
        let queue = lock(&self.queue).take().ok_or_else(|| {
            Error::InvalidInput(format!("the call {} is already finished", self.id))
        })?;
        let (reply, answer) = mpsc::channel();
        self.backlog.fetch_add(1, Ordering::SeqCst);
        queue
            .send(Command::Finish(reply))
            .map_err(|_| worker_gone())?;
        let result = answer.recv().map_err(|_| worker_gone())?;
        if let Some(handle) = lock(&self.worker).take() {
            let _ = handle.join();
        }
        Ok(result?)
    }
}

impl CallSession {
    fn audio(&self, samples: Vec<f32>, sample_rate: u32, channels: u32) -> Result<()> {
        if !self.consent {
            return Err(Error::InvalidInput(
                "the customer did not consent to recording, so this call takes no audio".into(),
            ));
        }
        let channels = channels as usize;
        crate::asr::check_live_format(sample_rate, channels)?;
        if !samples.len().is_multiple_of(channels) {
            return Err(Error::InvalidInput(format!(
                "a chunk of {} samples is not whole frames of {channels} channels",
                samples.len()
            )));
        }
        if samples.iter().any(|s| !s.is_finite()) {
            return Err(Error::InvalidInput(
                "the audio chunk holds a sample that is not a finite number".into(),
            ));
        }
        let mut format = lock(&self.format);
        match *format {
            Some(first) if first != (sample_rate, channels) => {
                return Err(Error::InvalidInput(format!(
                    "this chunk is {sample_rate} Hz with {channels} channels, but the call \
                     started at {} Hz with {} channels",
                    first.0, first.1
                )))
            }
            Some(_) => {}
            None => *format = Some((sample_rate, channels)),
        }
        drop(format);
        self.send(Command::Audio {
            samples,
            sample_rate,
            channels,
        })
    }

    fn send(&self, command: Command) -> Result<()> {
        let queue = lock(&self.queue);
        let queue = queue.as_ref().ok_or_else(|| {
            Error::InvalidInput(format!("the call {} is already finished", self.id))
        })?;
        self.backlog.fetch_add(1, Ordering::SeqCst);
        queue.send(command).map_err(|_| {
            self.backlog.fetch_sub(1, Ordering::SeqCst);
            worker_gone()
        })
    }
}

fn worker_gone() -> Error {
    Error::Internal("the call's thread has stopped; finish it from its journal".into())
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// A call that started and never finished (its process died, or the app never called
/// `finish`): what was said is in the journal.
#[derive(Debug, Clone, uniffi::Record, serde::Serialize)]
pub struct UnfinishedCall {
    pub call_id: String,
    pub rep_id: String,
    pub customer_id: Option<String>,
    /// RFC 3339, as the call started.
    pub started_at: String,
    /// Final utterances journaled.
    pub utterances: u32,
}

#[uniffi::export]
impl Engine {
    /// The calls that started and never finished, oldest first.
    pub fn unfinished_calls(&self) -> Result<Vec<UnfinishedCall>, CopilotError> {
        let store = self.store.get()?;
        let calls = store.read(|conn| {
            journal::unfinished(conn)?
                .into_iter()
                .map(|call| {
                    let said = journal::lines(conn, &call.id)?.len() as u32;
                    Ok(UnfinishedCall {
                        call_id: call.id,
                        rep_id: call.rep_id,
                        customer_id: call.customer_id,
                        started_at: call.started_at,
                        utterances: said,
                    })
                })
                .collect::<Result<Vec<_>>>()
        })?;
        Ok(calls)
    }
}

#[uniffi::export]
impl Engine {
    /// Writes the note of an unfinished call from what its journal holds, and ends it. The
    /// result is what [`CallSession::finish`] would have returned, less the audio still queued
    /// when the process died.
    pub fn finish_unfinished_call(
        self: Arc<Self>,
        call_id: String,
    ) -> Result<CallResult, CopilotError> {
        let (call, _) = self.reopen(&call_id)?;
        Ok(call.finish(call::Heard::default())?)
    }

    /// Takes up an unfinished call as a live session again, with the options it started with.
    /// What the journal holds stays; the new audio and lines come after it, their times
    /// counted from the end of the last journaled utterance.
    pub fn resume_call(
        self: Arc<Self>,
        call_id: String,
        listener: Arc<dyn CallListener>,
    ) -> Result<Arc<CallSession>, CopilotError> {
        let (call, options) = self.reopen(&call_id)?;
        let recognition = if options.consent_to_record {
            Some(self.live_models(&options)?)
        } else {
            None
        };
        Ok(spawn(
            call,
            options.consent_to_record,
            listener,
            recognition,
        )?)
    }
}

#[uniffi::export]
impl Engine {
    /// The note of a whole recorded call: transcribed (stereo as rep on channel 0 and customer
    /// on channel 1), labelled, coached and noted as a live call would be, on the caller's
    /// thread. The call is journaled like a live one, so a process that dies part way leaves
    /// an unfinished call. A recording needs the customer's consent to record.
    pub fn note_recording(
        self: Arc<Self>,
        path: String,
        options: CallOptions,
    ) -> Result<CallResult, CopilotError> {
        Ok(note_recording(self, std::path::Path::new(&path), &options)?)
    }
}

fn note_recording(
    engine: Arc<Engine>,
    path: &std::path::Path,
    options: &CallOptions,
) -> Result<CallResult> {
    check_options(options)?;
    if !options.consent_to_record {
        return Err(Error::InvalidInput(
            "the customer did not consent to recording, so the recording is not used".into(),
        ));
    }
    let models = engine.live_models(options)?;
    let recognition = crate::asr::transcribe_file(&models.asr, &models.vad, path, &models.decode)?;
    let record = engine.open_call(options)?;
    let mut call = Call::resume(engine, record, options.script.unwrap_or_default(), &[])?;
    for seg in &recognition.segments {
        let s = &seg.segment;
        call.settle(worker::speaker_of(seg.channel), s.start_s, s.end_s, &s.text)?;
    }
    call.finish(call::Heard {
        duration_s: recognition.duration_s,
        language: Some(recognition.language),
    })
}

/// What the session's thread needs from the engine.
impl Engine {
    /// Loads the speech models a call with audio needs.
    fn live_models(&self, options: &CallOptions) -> Result<worker::LiveModels> {
        let transcribe = crate::TranscribeOptions {
            asr_model: options
                .asr_model
                .clone()
                .unwrap_or_else(|| "whisper-base".into()),
            variant: None,
            language: options.language.clone(),
            threads: options.threads,
            script: options.script,
        };
        Ok(worker::LiveModels {
            asr: self.asr_model(&transcribe)?,
            vad: self.vad_model()?,
            decode: crate::asr::DecodeOptions {
                language: options.language.clone(),
                threads: transcribe
                    .threads
                    .map_or_else(crate::asr::free_cores, |t| t.max(1) as usize),
                fit_window: false,
            },
        })
    }

    /// An unfinished call from its journal, with the options it started with.
    fn reopen(self: &Arc<Self>, call_id: &str) -> Result<(Call, CallOptions)> {
        let store = self.store.get()?;
        let (record, lines) = store.read(|conn| {
            let record = journal::unfinished_call(conn, call_id)?
                .ok_or_else(|| call::not_unfinished(call_id))?;
            Ok((record, journal::lines(conn, call_id)?))
        })?;
        let options: CallOptions = serde_json::from_value(record.options.clone()).map_err(|e| {
            Error::Internal(format!("the journal's options of call {call_id}: {e}"))
        })?;
        let script = options.script.unwrap_or_default();
        let call = Call::resume(self.clone(), record, script, &lines)?;
        Ok((call, options))
    }

    fn open_call(&self, options: &CallOptions) -> Result<CallRecord> {
        let store = self.store.get()?;
        let mut call = CallRecord {
            id: String::new(),
            rep_id: options.rep_id.trim().to_string(),
            customer_id: options.customer_id.clone(),
            started_at: options.started_at.clone(),
            language: options.language.clone(),
            options: serde_json::to_value(options)
                .map_err(|e| Error::Internal(format!("call options: {e}")))?,
        };
        call.id = store.write(|tx| journal::open_call(tx, &call))?;
        Ok(call)
    }

    pub(crate) fn journal_append(&self, call_id: &str, line: &JournalLine) -> Result<()> {
        let store = self.store.get()?;
        store.write(|tx| journal::append(tx, call_id, line))
    }
}
