//! Speech recognition with whisper.cpp (through whisper-rs) on the converted ggml models.
//!
//! A [`WhisperModel`] holds the loaded weights and is shared; each transcription makes its own
//! decoding state, so several calls can be transcribed at once. Decoding is greedy and
//! deterministic, with the settings the reference transcripts were made with.

mod file;
mod lanes;
mod stream;

pub(crate) use file::{transcribe_file, FileRecognition};
pub(crate) use stream::{check_live_format, LiveOutput, LiveRecognizer};

use crate::error::{Error, Result};
use std::path::Path;
use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters};

/// Loaded Whisper weights.
pub(crate) struct WhisperModel {
    ctx: WhisperContext,
}

/// How to decode.
#[derive(Debug, Clone)]
pub(crate) struct DecodeOptions {
    /// `None` detects the language.
    pub language: Option<String>,
    pub threads: usize,
    /// Let the encoder read only as much of its 30 s window as the audio fills, plus a margin.
    /// Much faster on the short spans of a live call; whole files keep the full window, which
    /// is what the reference transcripts were made with.
    pub fit_window: bool,
}

/// Encoder frames per second of audio (1500 for Whisper's 30 s window).
const FRAMES_PER_S: f64 = 50.0;
/// Frames added to a fitted window, so the last words are never at its very edge.
const FIT_MARGIN: i32 = 128;
/// Encoder frames of the full 30 s window.
const FULL_WINDOW: i32 = 1500;

/// A decoded stretch of speech, in seconds from the start of the audio.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawSegment {
    pub start_s: f64,
    pub end_s: f64,
    pub text: String,
}

/// The recognised segments and the language they were decoded in.
pub(crate) struct Recognition {
    pub language: String,
    pub segments: Vec<RawSegment>,
}

/// The encoder frames for `samples` of 16 kHz audio, with the margin, at most the full window.
fn fitted_window(samples: usize) -> i32 {
    let seconds = samples as f64 / f64::from(crate::audio::SAMPLE_RATE);
    let frames = (seconds * FRAMES_PER_S).ceil() as i32 + FIT_MARGIN;
    frames.min(FULL_WINDOW)
}

/// Cores not busy with other work, judged from the one-minute load average: whisper.cpp's
/// threads spin while they wait, so more threads than free cores makes it slower, not faster.
pub(crate) fn free_cores() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .unwrap_or(0.0);
    let busy = load.round() as usize;
    cores.saturating_sub(busy).clamp(1, cores)
}

impl WhisperModel {
    /// Loads a ggml file that [`crate::models`] has already verified.
    pub fn load(path: &Path) -> Result<WhisperModel> {
        whisper_rs::install_logging_hooks();
        let load_error = |reason: String| Error::ModelLoad {
            path: path.to_path_buf(),
            reason,
        };
        let path_str = path
            .to_str()
            .ok_or_else(|| load_error("the path is not valid UTF-8".into()))?;
        let params = WhisperContextParameters::default();
        let ctx = WhisperContext::new_with_params(path_str, params)
            .map_err(|e| load_error(e.to_string()))?;
        Ok(WhisperModel { ctx })
    }

    /// The language reported when no speech was heard and none was asked for.
    pub fn default_language(&self) -> &'static str {
        if self.ctx.is_multilingual() {
            "unknown"
        } else {
            "en"
        }
    }

    /// Transcribes 16 kHz mono samples.
    pub fn transcribe(&self, samples: &[f32], opts: &DecodeOptions) -> Result<Recognition> {
        if let Some(code) = opts.language.as_deref() {
            if code.contains('\0') || whisper_rs::get_lang_id(code).is_none() {
                return Err(Error::InvalidInput(format!(
                    "'{code}' is not a language code Whisper knows (such as en or zh)"
                )));
            }
        }
        let mut state = self
            .ctx
            .create_state()
            .map_err(|e| Error::Asr(e.to_string()))?;
        let mut params = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
        params.set_n_threads(i32::try_from(opts.threads.max(1)).unwrap_or(1));
        // An English-only model cannot detect languages: asked to, it names a random one.
        let language = match opts.language.as_deref() {
            _ if !self.ctx.is_multilingual() => "en",
            Some(code) => code,
            None => "auto",
        };
        params.set_language(Some(language));
        if opts.fit_window {
            params.set_audio_ctx(fitted_window(samples.len()));
        }
        params.set_temperature(0.0);
        params.set_temperature_inc(0.0);
        params.set_suppress_blank(true);
        params.set_suppress_nst(true);
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_special(false);
        params.set_print_timestamps(false);
        state
            .full(params, samples)
            .map_err(|e| Error::Asr(e.to_string()))?;
        let language = whisper_rs::get_lang_str(state.full_lang_id_from_state())
            .unwrap_or("unknown")
            .to_string();
        let segments = state
            .as_iter()
            .map(|seg| RawSegment {
                start_s: seg.start_timestamp() as f64 / 100.0,
                end_s: seg.end_timestamp() as f64 / 100.0,
                text: seg
                    .to_str_lossy()
                    .map(|t| t.trim().to_string())
                    .unwrap_or_default(),
            })
            .collect();
        Ok(Recognition { language, segments })
    }
}
