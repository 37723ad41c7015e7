//! One call from its first utterance to its note, whatever feeds it: a live session's audio
//! and typed lines, a whole recording, or the journal of a call whose process died.
//!
//! Each final utterance is labelled, journaled and given to the coach, in that order, so the
//! journal holds everything the note needs before the app hears of it. The journal keeps
//! Chinese in Simplified characters whatever the call asked for; text is put in the call's
//! script only on its way out to the app. When the call ends, the coach's conclusions and the
//! note are written, and the note is saved with its outbox event in the same transaction that
//! marks the call ended.

use super::LiveEvent;
use crate::coach::call::{CallCoach, CallSetup, CoachContext};
use crate::coach::{self, CallCoaching};
use crate::error::{Error, Result};
use crate::notes::{self, Catalogue, CatalogueProduct, Note, NoteCustomer, NoteInput};
use crate::script::{self, ChineseScript};
use crate::store::journal::{CallRecord, JournalLine};
use crate::store::{self, Store};
use crate::{CallUtterance, Engine, Speaker, Utterance};
use chrono::{DateTime, FixedOffset};
use std::sync::Arc;

/// What a finished call gives the app.
#[derive(Debug, Clone, uniffi::Record, serde::Serialize)]
pub struct CallResult {
    /// The structured note, already saved with its outbox event.
    pub note: Note,
    /// The final utterances, in time order.
    pub utterances: Vec<CallUtterance>,
    /// The coach's conclusions: compliance, score, sentiment, coaching tasks raised.
    pub coaching: CallCoaching,
}

/// What the audio told about the call when it ended.
#[derive(Debug, Clone, Default)]
pub(crate) struct Heard {
    /// Seconds of audio, or 0 for a call of typed lines.
    pub duration_s: f64,
    /// The language the recogniser detected, if it heard speech.
    pub language: Option<String>,
}

/// A call in progress.
pub(crate) struct Call {
    engine: Arc<Engine>,
    record: CallRecord,
    started_at: DateTime<FixedOffset>,
    coach: CallCoach,
    utterances: Vec<CallUtterance>,
    script: ChineseScript,
    /// Seconds added to the times of what comes in: the end of the journal of a resumed call.
    offset_s: f64,
}

impl Call {
    /// Takes up a call already written to the journal, with the utterances journaled so far
    /// (none for a new call). The coach sees them again, without telling anyone.
    pub(crate) fn resume(
        engine: Arc<Engine>,
        record: CallRecord,
        script: ChineseScript,
        journaled: &[JournalLine],
    ) -> Result<Call> {
        let started_at = notes::parse_started_at(&record.started_at)?;
        let store = engine.store.get()?;
        let setup = CallSetup {
            call_id: record.id.clone(),
            rep_id: record.rep_id.clone(),
            language: record.language.clone(),
            catalogue: coach::call::catalogue(&store)?,
        };
        let coach = CallCoach::new(engine.coach.playbook(), setup);
        let mut call = Call {
            engine,
            record,
            started_at,
            coach,
            utterances: Vec::new(),
            script,
            offset_s: 0.0,
        };
        for line in journaled {
            let speaker = match line.speaker.as_deref() {
                Some("rep") => Some(Speaker::Rep),
                Some("customer") => Some(Speaker::Customer),
                _ => None,
            };
            let utterance = call.label(speaker, line.start_s, line.end_s, &line.text)?;
            let _ = call.coach_events(&utterance);
        }
        call.offset_s = journaled.iter().map(|l| l.end_s).fold(0.0, f64::max);
        Ok(call)
    }

    /// The call's id, as the journal and the note name it.
    pub(crate) fn id(&self) -> &str {
        &self.record.id
    }

    /// The script the app asked for.
    pub(crate) fn script(&self) -> ChineseScript {
        self.script
    }

    /// A final utterance: labelled, journaled, then coached. Returns what the app is told, in
    /// order: the utterance, then the coach's events. A coach that fails on it costs its events
    /// only (reported as a problem); the utterance stands.
    pub(crate) fn settle(
        &mut self,
        speaker: Option<Speaker>,
        start_s: f64,
        end_s: f64,
        text: &str,
    ) -> Result<Vec<LiveEvent>> {
        let (start_s, end_s) = (start_s + self.offset_s, end_s + self.offset_s);
        let utterance = self.label(speaker, start_s, end_s, text)?;
        self.engine.journal_append(
            &self.record.id,
            &JournalLine {
                seq: utterance.seq,
                start_s: utterance.start_s,
                end_s: utterance.end_s,
                speaker: speaker.map(|s| s.as_str().to_string()),
                text: utterance.text.clone(),
            },
        )?;
        let mut events = vec![LiveEvent::Utterance {
            utterance: in_script(utterance.clone(), self.script),
        }];
        match self.coach_events(&utterance) {
            Ok(coached) => {
                events.extend(coached.into_iter().map(|event| LiveEvent::Coach { event }))
            }
            Err(err) => events.push(LiveEvent::Problem {
                reason: format!("the coach skipped an utterance: {err}"),
            }),
        }
        Ok(events)
    }

    /// Classifies an utterance and adds it to the call, in Simplified characters.
    fn label(
        &mut self,
        speaker: Option<Speaker>,
        start_s: f64,
        end_s: f64,
        text: &str,
    ) -> Result<CallUtterance> {
        let text = script::to_simplified(text.trim());
        let previous = self.utterances.last().map(|u| u.text.clone());
        let classification = self.engine.classify_inner(&Utterance {
            text: text.clone(),
            speaker,
            previous,
        })?;
        let utterance = CallUtterance {
            seq: self.utterances.len() as u32,
            start_s,
            end_s: end_s.max(start_s),
            speaker,
            text,
            classification,
        };
        self.utterances.push(utterance.clone());
        Ok(utterance)
    }

    fn coach_events(&mut self, utterance: &CallUtterance) -> Result<Vec<coach::CoachEvent>> {
        let store = self.engine.store.get()?;
        let engine = self.engine.clone();
        let encoder = move || engine.encoder();
        let cache = self.engine.data_dir.join("nlu");
        let ctx = CoachContext {
            store: &store,
            encoder: &encoder,
            cache_dir: Some(&cache),
            now: coach::now(),
        };
        self.coach.on_utterance(utterance, &ctx)
    }

    /// Ends the call: the coach's conclusions, then the note, saved with its outbox event in
    /// the transaction that marks the call ended.
    pub(crate) fn finish(mut self, heard: Heard) -> Result<CallResult> {
        let store = self.engine.store.get()?;
        self.utterances
            .sort_by(|a, b| a.start_s.total_cmp(&b.start_s).then(a.seq.cmp(&b.seq)));
        let language = self.language(heard.language);
        let duration_s = notes::call_duration(heard.duration_s, &self.utterances);
        let coaching = self.conclude(&store, duration_s)?;
        let input = self.note_input(&store, &language, duration_s, &coaching)?;
        let note = notes::build_note(&input);
        store::save_note_and_end_call(&store, &note.to_record()?)?;
        tracing::debug!(call = %self.record.id, utterances = self.utterances.len(), "call finished");
        let script = self.script;
        Ok(CallResult {
            note: note.in_script(script),
            utterances: self
                .utterances
                .into_iter()
                .map(|u| in_script(u, script))
                .collect(),
            coaching,
        })
    }

    /// The call's language: as the caller set it, else as the recogniser heard it, else read
    /// from the text (Han characters mean Chinese).
    fn language(&self, heard: Option<String>) -> String {
        if let Some(language) = self.record.language.clone().or(heard) {
            return language;
        }
        let han = self
            .utterances
            .iter()
            .any(|u| u.text.chars().any(script::is_han));
        if han { "zh" } else { "en" }.to_string()
    }

    fn conclude(&mut self, store: &Store, duration_s: f64) -> Result<CallCoaching> {
        let engine = self.engine.clone();
        let encoder = move || engine.encoder();
        let ctx = CoachContext {
            store,
            encoder: &encoder,
            cache_dir: None,
            now: coach::now(),
        };
        let call_end = self.started_at + chrono::Duration::milliseconds((duration_s * 1e3) as i64);
        self.coach.finish(&ctx, call_end)
    }

    fn note_input(
        &self,
        store: &Store,
        language: &str,
        duration_s: f64,
        coaching: &CallCoaching,
    ) -> Result<NoteInput> {
        let (catalogue, customer) = store.read(|conn| {
            let (products, competitors) = (store::products(conn)?, store::competitors(conn)?);
            let customer = match &self.record.customer_id {
                Some(id) => Some(note_customer(
                    id,
                    store::customer_names(conn, id)?,
                    language,
                )),
                None => None,
            };
            Ok((catalogue_of(products, competitors), customer))
        })?;
        Ok(NoteInput {
            call_id: self.record.id.clone(),
            customer,
            rep_id: self.record.rep_id.clone(),
            started_at: self.started_at,
            duration_s,
            language: language.to_string(),
            utterances: self.utterances.clone(),
            catalogue,
            compliance: coaching.compliance.clone(),
            sentiment: coaching.sentiment.clone(),
            default_currency: notes::default_currency(language).map(str::to_string),
        })
    }
}

/// The customer as the note names it, in the call's language where the cache has that name.
fn note_customer(id: &str, names: Option<store::CustomerNames>, language: &str) -> NoteCustomer {
    let Some(names) = names else {
        return NoteCustomer {
            id: id.to_string(),
            name: String::new(),
            in_cache: false,
        };
    };
    let (first, second) = if language.starts_with("zh") {
        (names.name_zh, names.name_en)
    } else {
        (names.name_en, names.name_zh)
    };
    NoteCustomer {
        id: id.to_string(),
        name: first.or(second).unwrap_or_default(),
        in_cache: true,
    }
}

fn catalogue_of(products: Vec<store::ProductNames>, competitors: Vec<String>) -> Catalogue {
    Catalogue {
        products: products
            .into_iter()
            .map(|(id, name_zh, name_en, registration_no)| CatalogueProduct {
                id,
                name_zh,
                name_en,
                registration_no,
            })
            .collect(),
        competitors,
    }
}

/// An utterance with its Chinese text in `script`.
fn in_script(mut utterance: CallUtterance, script: ChineseScript) -> CallUtterance {
    if script != ChineseScript::Simplified {
        utterance.text = script::convert(&utterance.text, script);
        utterance.classification.text = script::convert(&utterance.classification.text, script);
    }
    utterance
}

/// Refuses a call id the journal does not hold as unfinished.
pub(crate) fn not_unfinished(call_id: &str) -> Error {
    Error::InvalidInput(format!(
        "the call {call_id} is not an unfinished call of this device"
    ))
}
