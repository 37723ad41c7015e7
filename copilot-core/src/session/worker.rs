//! The session's thread: recognition, then the call's labelling, journal and coach, in arrival
//! order.
//!
//! The worker handles commands in order. After an audio chunk, and when no command came for a
//! moment, it decodes partial text for speech in progress, at most once per second of new
//! speech, and only when nothing waits in its queue: a partial decodes the whole open span, as
//! costly as a final one, so partials are what gives way when the device is too slow for both,
//! and final text never falls behind for them.

use super::call::{Call, CallResult, Heard};
use super::{Command, LiveEvent};
use crate::asr::{DecodeOptions, LiveOutput, LiveRecognizer, WhisperModel};
use crate::audio::vad::SileroVad;
use crate::error::{Error, Result};
use crate::script;
use crate::{CallListener, Speaker};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long the worker waits for a command before it looks at partial text.
const IDLE: Duration = Duration::from_millis(250);
/// Seconds a typed line is taken to last, when it has no time of its own.
const LINE_SECONDS: f64 = 2.0;

/// The models a call with audio needs, loaded before the call starts.
pub(crate) struct LiveModels {
    pub asr: Arc<WhisperModel>,
    pub vad: Arc<SileroVad>,
    pub decode: DecodeOptions,
}

/// Everything one call's thread owns.
pub(super) struct Worker {
    call: Call,
    listener: Arc<dyn CallListener>,
    models: Option<LiveModels>,
    recognizer: Option<LiveRecognizer>,
    began: Instant,
    /// Commands the session sent that this worker has not taken yet.
    backlog: Arc<AtomicUsize>,
}

impl Worker {
    pub fn new(
        call: Call,
        listener: Arc<dyn CallListener>,
        models: Option<LiveModels>,
        backlog: Arc<AtomicUsize>,
    ) -> Worker {
        Worker {
            call,
            listener,
            models,
            recognizer: None,
            began: Instant::now(),
            backlog,
        }
    }

    /// Runs until the call is finished or its session is dropped (the journal keeps the call
    /// for a later finish).
    pub fn run(mut self, inbox: Receiver<Command>) {
        loop {
            let next = inbox.recv_timeout(IDLE);
            if next.is_ok() {
                self.backlog.fetch_sub(1, Ordering::SeqCst);
            }
            match next {
                Ok(Command::Finish(reply)) => {
                    let _ = reply.send(self.finish());
                    return;
                }
                Ok(command) => self.handle(command),
                Err(RecvTimeoutError::Timeout) => self.partials(),
                Err(RecvTimeoutError::Disconnected) => {
                    tracing::debug!(call = %self.call.id(), "session dropped before finish");
                    return;
                }
            }
        }
    }

    fn handle(&mut self, command: Command) {
        let outcome = match command {
            Command::Audio {
                samples,
                sample_rate,
                channels,
            } => self
                .audio(&samples, sample_rate, channels)
                .map(|()| self.partials()),
            Command::Line {
                speaker,
                text,
                at_s,
            } => self.line(speaker, &text, at_s),
            Command::Finish(_) => Ok(()),
        };
        if let Err(err) = outcome {
            self.problem(&err);
        }
    }

    fn audio(&mut self, samples: &[f32], sample_rate: u32, channels: usize) -> Result<()> {
        if self.recognizer.is_none() {
            let models = self.models.as_ref().ok_or_else(|| {
                Error::InvalidInput("this call was started without consent to record".into())
            })?;
            self.recognizer = Some(LiveRecognizer::new(
                models.asr.clone(),
                &models.vad,
                &models.decode,
                sample_rate,
                channels,
            )?);
        }
        let outputs = match self.recognizer.as_mut() {
            Some(recognizer) => recognizer.push(samples)?,
            None => Vec::new(),
        };
        self.outputs(outputs)
    }

    fn line(&mut self, speaker: Option<Speaker>, text: &str, at_s: Option<f64>) -> Result<()> {
        if text.trim().is_empty() {
            return Ok(());
        }
        let start_s = at_s.unwrap_or_else(|| self.began.elapsed().as_secs_f64());
        self.settle(speaker, start_s, start_s + LINE_SECONDS, text)
    }

    fn partials(&mut self) {
        if self.backlog.load(Ordering::SeqCst) > 0 {
            return;
        }
        let Some(recognizer) = self.recognizer.as_mut() else {
            return;
        };
        match recognizer.partials() {
            Ok(outputs) => {
                if let Err(err) = self.outputs(outputs) {
                    self.problem(&err);
                }
            }
            Err(err) => self.problem(&err),
        }
    }

    fn outputs(&mut self, outputs: Vec<LiveOutput>) -> Result<()> {
        for output in outputs {
            match output {
                LiveOutput::Partial {
                    channel,
                    start_s,
                    text,
                } => self.emit(LiveEvent::Partial {
                    speaker: speaker_of(channel),
                    start_s,
                    text: script::convert(&text, self.call.script()),
                }),
                LiveOutput::Final(seg) => {
                    let s = seg.segment;
                    self.settle(speaker_of(seg.channel), s.start_s, s.end_s, &s.text)?;
                }
            }
        }
        Ok(())
    }

    /// A final utterance: the call labels, journals and coaches it; the app hears the result.
    fn settle(
        &mut self,
        speaker: Option<Speaker>,
        start_s: f64,
        end_s: f64,
        text: &str,
    ) -> Result<()> {
        for event in self.call.settle(speaker, start_s, end_s, text)? {
            self.emit(event);
        }
        Ok(())
    }

    fn finish(mut self) -> Result<CallResult> {
        let mut heard = Heard::default();
        if let Some(mut recognizer) = self.recognizer.take() {
            let outputs = recognizer.finish()?;
            self.outputs(outputs)?;
            heard = Heard {
                duration_s: recognizer.duration_s(),
                language: Some(recognizer.language()).filter(|l| !l.is_empty()),
            };
            tracing::debug!(call = %self.call.id(), language = ?heard.language, "audio ended");
        }
        self.call.finish(heard)
    }

    fn problem(&self, err: &Error) {
        tracing::warn!(call = %self.call.id(), %err, "live call problem");
        self.emit(LiveEvent::Problem {
            reason: err.to_string(),
        });
    }

    /// Hands an event to the app; a listener that fails does not stop the call.
    fn emit(&self, event: LiveEvent) {
        let listener = self.listener.clone();
        let delivered =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| listener.on_event(event)));
        if delivered.is_err() {
            tracing::warn!(call = %self.call.id(), "the listener failed on an event");
        }
    }
}

/// Stereo lanes carry speakers: the rep on channel 0, the customer on channel 1.
pub(super) fn speaker_of(channel: Option<usize>) -> Option<Speaker> {
    match channel {
        Some(0) => Some(Speaker::Rep),
        Some(1) => Some(Speaker::Customer),
        _ => None,
    }
}
