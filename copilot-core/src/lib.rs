//! The sales copilot core: what the iOS and Android apps and the `copilot` command see.
//!
//! This file is the exported surface only. The [`Engine`] owns the models folder, the data
//! folder and the models loaded from them; everything else lives in the modules below and
//! never crosses the binding boundary directly.

mod asr;
mod audio;
mod coach;
mod error;
mod models;
mod nlu;
mod notes;
mod script;
mod session;
mod store;

pub use coach::{
    BreakerPhase, BreakerState, CallCoaching, CallReplay, CallScore, CoachAlert, CoachEvent,
    CoachedUtterance, CoachingTask, ComplianceResult, FeedbackOutcome, SentimentPoint, Suggestion,
    SuggestionFate,
};
pub use error::CopilotError;
pub use models::{ModelState, ModelStatus};
pub use nlu::{Classification, Evidence, EvidenceSource, Utterance};
pub use notes::{
    Note, NoteAction, NoteConflict, NoteCustomer, NoteDiscount, NoteObjection, NotePrice,
    NoteProduct, SpeakerTime,
};
pub use script::ChineseScript;
pub use session::{CallListener, CallOptions, CallResult, CallSession, LiveEvent, UnfinishedCall};
pub use store::{
    CompetitorContact, CustomerCard, CustomerSummary, ImportSummary, OpenCommitment, OpenObjection,
    OutboxRecord, PurchaseCycle, Trend,
};

use error::Error;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

uniffi::setup_scaffolding!();

/// Where the engine finds its models and keeps its data. The apps pass both explicitly.
#[derive(Debug, Clone, uniffi::Record)]
pub struct EngineConfig {
    /// The folder that holds the converted model files named in the manifest.
    pub models_dir: String,
    /// The folder for the database and the call journals; created if absent.
    pub data_dir: String,
}

/// Who spoke a segment. Absent (null) when it is not known, as in mono audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Speaker {
    Rep,
    Customer,
}

impl Speaker {
    /// `rep` or `customer`, as transcripts and the database write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Speaker::Rep => "rep",
            Speaker::Customer => "customer",
        }
    }
}

/// A stretch of recognised speech.
#[derive(Debug, Clone, uniffi::Record, serde::Serialize)]
pub struct Segment {
    /// Seconds from the start of the audio.
    pub start_s: f64,
    pub end_s: f64,
    pub text: String,
    pub speaker: Option<Speaker>,
}

/// One final utterance of a call or chat with its label: what the coach and the note builder
/// read, and what a live session's listener receives.
#[derive(Debug, Clone, uniffi::Record, serde::Serialize)]
pub struct CallUtterance {
    /// Position in the call, from 0.
    pub seq: u32,
    /// Seconds from the call's start.
    pub start_s: f64,
    pub end_s: f64,
    pub speaker: Option<Speaker>,
    /// The text as transcribed or typed (Chinese in the script the session asked for).
    pub text: String,
    pub classification: Classification,
}

/// The transcript of a whole recording.
#[derive(Debug, Clone, uniffi::Record, serde::Serialize)]
pub struct Transcript {
    /// `zh`, `en`, ... as detected or as asked for.
    pub language: String,
    pub duration_s: f64,
    /// All segments' text joined with spaces.
    pub text: String,
    pub segments: Vec<Segment>,
}

/// How to transcribe.
#[derive(Debug, Clone, uniffi::Record)]
pub struct TranscribeOptions {
    /// The ASR model by its manifest name: `whisper-base` (multilingual) or `whisper-tiny-en`.
    pub asr_model: String,
    /// `f16` (default) or `q8_0`.
    pub variant: Option<String>,
    /// A language code such as `en` or `zh`; null detects it.
    pub language: Option<String>,
    /// Decoding threads; null uses the cores that are free now.
    pub threads: Option<u32>,
    /// The script of Chinese text in the transcript; null means Simplified.
    pub script: Option<ChineseScript>,
}

impl Default for TranscribeOptions {
    fn default() -> Self {
        TranscribeOptions {
            asr_model: "whisper-base".into(),
            variant: None,
            language: None,
            threads: None,
            script: None,
        }
    }
}

/// The copilot engine: one per app, shared across threads. Models load on first use and stay
/// loaded for the engine's life.
#[derive(uniffi::Object)]
pub struct Engine {
    models: models::ModelDir,
    data_dir: PathBuf,
    asr: Mutex<HashMap<(String, String), Arc<asr::WhisperModel>>>,
    store: store::Slot,
    vad: Mutex<Option<Arc<audio::vad::SileroVad>>>,
    nlu: nlu::Nlu,
    coach: coach::Coach,
}

#[uniffi::export]
impl Engine {
    /// Opens an engine over a models folder and a data folder. Nothing heavy is loaded yet.
    #[uniffi::constructor]
    pub fn new(config: EngineConfig) -> Result<Arc<Engine>, CopilotError> {
        let data_dir = PathBuf::from(&config.data_dir);
        std::fs::create_dir_all(&data_dir).map_err(|source| Error::Folder {
            path: data_dir.clone(),
            source,
        })?;
        let models = models::ModelDir::new(PathBuf::from(&config.models_dir), &data_dir)?;
        let nlu = nlu::Nlu::new(Some(data_dir.join("nlu")))?;
        tracing::debug!(models = %config.models_dir, data = %config.data_dir, "engine opened");
        Ok(Arc::new(Engine {
            models,
            store: store::Slot::new(&data_dir),
            data_dir,
            asr: Mutex::new(HashMap::new()),
            vad: Mutex::new(None),
            nlu,
            coach: coach::Coach::new()?,
        }))
    }

    /// Every model file of the manifest with its state (this hashes each present file).
    pub fn model_status(&self) -> Vec<ModelStatus> {
        self.models.status()
    }

    /// The data folder this engine writes to.
    pub fn data_dir(&self) -> String {
        self.data_dir.display().to_string()
    }

    /// Transcribes a whole recording: WAV, FLAC, MP3, AAC/M4A or Ogg Vorbis, any rate. Only
    /// the speech that voice detection finds is decoded; a stereo file is read as the rep on
    /// channel 0 and the customer on channel 1, its segments merged in time order.
    pub fn transcribe_file(
        &self,
        path: String,
        options: TranscribeOptions,
    ) -> Result<Transcript, CopilotError> {
        let model = self.asr_model(&options)?;
        let vad = self.vad_model()?;
        let threads = options
            .threads
            .map_or_else(asr::free_cores, |t| t.max(1) as usize);
        let decode = asr::DecodeOptions {
            language: options.language.clone(),
            threads,
            fit_window: false,
        };
        let path = std::path::Path::new(&path);
        let recognition = asr::transcribe_file(&model, &vad, path, &decode)?;
        Ok(transcript(recognition, options.script.unwrap_or_default()))
    }
}

/// The customer history and the outbox. The database opens on the first of these calls.
#[uniffi::export]
impl Engine {
    /// Loads a customer snapshot file (the JSON format of `fixtures/customers/README.md`) in one
    /// transaction: all of it or, with the bad row's position and reason, none of it.
    pub fn import_snapshot(&self, path: String) -> Result<ImportSummary, CopilotError> {
        let store = self.store.get()?;
        Ok(store::import_file(&store, std::path::Path::new(&path))?)
    }

    /// Loads a customer snapshot held in a string; see [`Engine::import_snapshot`].
    pub fn import_snapshot_json(&self, json: String) -> Result<ImportSummary, CopilotError> {
        let store = self.store.get()?;
        Ok(store::import_bytes(&store, json.as_bytes())?)
    }

    /// The card of the customer whose id, Chinese name or English name is `customer`, as of
    /// `as_of` (`YYYY-MM-DD`; null means today, UTC).
    pub fn customer_card(
        &self,
        customer: String,
        as_of: Option<String>,
    ) -> Result<CustomerCard, CopilotError> {
        let store = self.store.get()?;
        Ok(store::customer_card(&store, &customer, as_of.as_deref())?)
    }

    /// Up to `limit` outbox records not yet acknowledged, oldest first. Send them, then
    /// acknowledge the ids that arrived; the rest come back in the next batch.
    pub fn outbox_pending(&self, limit: u32) -> Result<Vec<OutboxRecord>, CopilotError> {
        let store = self.store.get()?;
        Ok(store::outbox_pending(&store, limit)?)
    }

    /// Marks outbox records delivered. Unknown and already acknowledged ids are ignored;
    /// returns how many records this call acknowledged.
    pub fn outbox_acknowledge(&self, ids: Vec<String>) -> Result<u32, CopilotError> {
        let store = self.store.get()?;
        Ok(store::outbox_acknowledge(&store, &ids)?)
    }

    /// Opens the database, and if it is damaged (a `CorruptDatabase` error elsewhere) moves the
    /// file aside, never deleting it, and starts an empty one. Returns where the damaged file
    /// went, or null when the database was healthy and nothing moved.
    pub fn recover_database(&self) -> Result<Option<String>, CopilotError> {
        let moved = self.store.recover()?;
        Ok(moved.map(|p| p.display().to_string()))
    }
}

// Understanding utterances: classification and the lexicon (issue 4).
#[uniffi::export]
impl Engine {
    /// Classifies one utterance or chat message: intent, objection type, confidence and
    /// evidence, made by the lexicon in force (its version is in the result). The encoder
    /// loads on the first utterance that no lexicon phrase decides.
    pub fn classify(&self, utterance: Utterance) -> Result<Classification, CopilotError> {
        Ok(self.classify_inner(&utterance)?)
    }

    /// Checks a lexicon file whole and puts it in force, returning its version. A file that
    /// fails any check is refused with its line and the reason, and the lexicon in force stays.
    pub fn load_lexicon(&self, path: String) -> Result<String, CopilotError> {
        let lexicon = nlu::lexicon::Lexicon::from_file(std::path::Path::new(&path))?;
        Ok(self.nlu.swap(lexicon))
    }

    /// As [`Engine::load_lexicon`], from the lexicon's text instead of a file.
    pub fn load_lexicon_text(&self, text: String) -> Result<String, CopilotError> {
        let lexicon = nlu::lexicon::Lexicon::parse(&text)?;
        Ok(self.nlu.swap(lexicon))
    }

    /// The version of the lexicon in force.
    pub fn lexicon_version(&self) -> String {
        self.nlu.lexicon_version()
    }

    /// The L2-normalised multilingual e5-small embedding of a text, as an e5 query.
    pub fn embed(&self, text: String) -> Result<Vec<f32>, CopilotError> {
        Ok(self.encoder()?.embed(&text)?)
    }
}

// Coaching: the playbook and the circuit breaker (issue 6).
#[uniffi::export]
impl Engine {
    /// Records a rep's reaction to a suggestion the coach showed, and moves the breaker of its
    /// scenario. An unknown suggestion (or one shown to another rep) is `NotFound`; the same
    /// final fate twice changes nothing (`recorded` is false); a different final fate after one
    /// was recorded is `InvalidInput`.
    pub fn record_feedback(
        &self,
        rep_id: String,
        suggestion_id: String,
        fate: SuggestionFate,
    ) -> Result<FeedbackOutcome, CopilotError> {
        let store = self.store.get()?;
        let settings = self.coach.playbook().breaker.clone();
        let key = (rep_id.as_str(), suggestion_id.as_str());
        Ok(coach::breaker::record_feedback(
            &store,
            key,
            fate,
            coach::now(),
            &settings,
        )?)
    }

    /// Every scenario breaker of a rep, as of now (a frozen one whose cool-down ended is
    /// reported, and stored, half-open).
    pub fn breaker_states(&self, rep_id: String) -> Result<Vec<BreakerState>, CopilotError> {
        let store = self.store.get()?;
        let settings = self.coach.playbook().breaker.clone();
        Ok(coach::breaker::states(
            &store,
            &rep_id,
            coach::now(),
            &settings,
        )?)
    }

    /// A manager's reset: closes a frozen or half-open scenario of a rep at once. A scenario
    /// that is not frozen is `InvalidInput` and nothing changes.
    pub fn reset_breaker(
        &self,
        rep_id: String,
        scenario: String,
    ) -> Result<BreakerState, CopilotError> {
        let store = self.store.get()?;
        let settings = self.coach.playbook().breaker.clone();
        let key = (rep_id.as_str(), scenario.as_str());
        Ok(coach::breaker::reset(&store, key, coach::now(), &settings)?)
    }

    /// Checks a playbook file whole and puts it in force, returning its version. A file that
    /// fails any check is refused with its line and the reason, and the playbook in force stays.
    pub fn load_playbook(&self, path: String) -> Result<String, CopilotError> {
        let playbook = coach::playbook::Playbook::from_file(std::path::Path::new(&path))?;
        Ok(self.coach.swap(playbook))
    }

    /// As [`Engine::load_playbook`], from the playbook's text instead of a file.
    pub fn load_playbook_text(&self, text: String) -> Result<String, CopilotError> {
        let playbook = coach::playbook::Playbook::parse(&text)?;
        Ok(self.coach.swap(playbook))
    }

    /// The version of the playbook in force.
    pub fn playbook_version(&self) -> String {
        self.coach.playbook().version.clone()
    }

    /// Replays a whole call's classified utterances through the coach, as a live session
    /// would feed them, then ends the call (compliance streaks, coaching tasks, score). The
    /// call ends `duration` after now; `language` is `zh`, `en`, or null to read each
    /// utterance's script. A `call_id` already finished gets its results but counts no streak
    /// again.
    pub fn coach_call(
        &self,
        rep_id: String,
        call_id: String,
        language: Option<String>,
        utterances: Vec<CallUtterance>,
    ) -> Result<CallReplay, CopilotError> {
        let store = self.store.get()?;
        let setup = coach::call::CallSetup {
            call_id,
            rep_id,
            language,
            catalogue: coach::call::catalogue(&store)?,
        };
        let mut call = coach::call::CallCoach::new(self.coach.playbook(), setup);
        let encoder = || self.encoder();
        let cache = self.data_dir.join("nlu");
        let mut ctx = coach::call::CoachContext {
            store: &store,
            encoder: &encoder,
            cache_dir: Some(&cache),
            now: coach::now(),
        };
        let mut out = Vec::with_capacity(utterances.len());
        for u in &utterances {
            let started = std::time::Instant::now();
            ctx.now = coach::now();
            let events = call.on_utterance(u, &ctx)?;
            let micros = started.elapsed().as_micros() as u64;
            out.push(CoachedUtterance {
                seq: u.seq,
                events,
                micros,
            });
        }
        let end_s = utterances.last().map_or(0.0, |u| u.end_s);
        let call_end = ctx.now + chrono::Duration::milliseconds((end_s * 1000.0) as i64);
        let coaching = call.finish(&ctx, call_end)?;
        Ok(CallReplay {
            utterances: out,
            coaching,
        })
    }
}

impl Engine {
    pub(crate) fn classify_inner(&self, utterance: &Utterance) -> Result<Classification, Error> {
        self.nlu.classify(utterance, &|| self.encoder())
    }

    fn encoder(&self) -> Result<Arc<nlu::encoder::Encoder>, Error> {
        self.nlu.encoder(|| {
            let weights = self.models.verified("e5-small", "q4_0")?;
            let tokenizer = self
                .models
                .companion("e5-small", "e5-small-tokenizer.json")?;
            nlu::encoder::Encoder::load(&weights, &tokenizer)
        })
    }
}

impl Engine {
    fn asr_model(&self, options: &TranscribeOptions) -> Result<Arc<asr::WhisperModel>, Error> {
        let variant = options.variant.clone().unwrap_or_else(|| "f16".into());
        let key = (options.asr_model.clone(), variant);
        let mut loaded = self.asr.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(model) = loaded.get(&key) {
            return Ok(model.clone());
        }
        let path = self.models.verified(&key.0, &key.1)?;
        let model = Arc::new(asr::WhisperModel::load(&path)?);
        tracing::debug!(model = %key.0, variant = %key.1, "asr model loaded");
        loaded.insert(key, model.clone());
        Ok(model)
    }

    fn vad_model(&self) -> Result<Arc<audio::vad::SileroVad>, Error> {
        let mut loaded = self.vad.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(model) = loaded.as_ref() {
            return Ok(model.clone());
        }
        let path = self.models.verified("silero-vad", "")?;
        let model = Arc::new(audio::vad::SileroVad::load(&path)?);
        tracing::debug!("voice activity model loaded");
        *loaded = Some(model.clone());
        Ok(model)
    }
}

fn transcript(recognition: asr::FileRecognition, chinese: ChineseScript) -> Transcript {
    let segments: Vec<Segment> = recognition
        .segments
        .into_iter()
        .map(|s| Segment {
            start_s: s.segment.start_s,
            end_s: s.segment.end_s,
            text: script::convert(&s.segment.text, chinese),
            speaker: match s.channel {
                Some(0) => Some(Speaker::Rep),
                Some(1) => Some(Speaker::Customer),
                _ => None,
            },
        })
        .collect();
    let text = segments
        .iter()
        .map(|s| s.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    Transcript {
        language: recognition.language,
        duration_s: recognition.duration_s,
        text,
        segments,
    }
}
