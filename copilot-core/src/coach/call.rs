//! The coach of one call: fed each final, classified utterance in order, it answers with the
//! live events for the rep, and when the call ends it gives the compliance results, the score,
//! the sentiment curve and any coaching task.
//!
//! Suggestions answer the customer: an utterance by the rep never triggers them (labels do not
//! depend on who speaks, but a rep's own "this is our final price" needs no reply script). An
//! utterance by an unknown speaker (mono audio) is treated as the customer's. The call keeps the
//! playbook it started with even if a new one is loaded meanwhile.

use super::compliance::{self, CatalogueProduct, Tracker};
use super::playbook::Playbook;
use super::sentiment::{Curve, Scored};
use super::Suggestion;
use super::{breaker, suggest};
use super::{BreakerPhase, CallCoaching, CallScore, CoachAlert, CoachEvent, CoachingTask};
use crate::error::Result;
use crate::nlu::classify::EncoderSource;
use crate::nlu::text;
use crate::store::coach::{self as rows, SuggestionRow};
use crate::store::Store;
use crate::{CallUtterance, Speaker};
use chrono::{DateTime, Duration, FixedOffset};
use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

/// Who and what a call is.
#[derive(Debug, Clone)]
pub(crate) struct CallSetup {
    /// Unique per call; suggestion ids and coaching tasks name it.
    pub call_id: String,
    pub rep_id: String,
    /// `zh` or `en`; none reads each utterance's script (Han characters mean `zh`).
    pub language: Option<String>,
    /// The products whose names and registration numbers the compliance check knows.
    pub catalogue: Vec<CatalogueProduct>,
}

/// What the coach works with for one step.
pub(crate) struct CoachContext<'a> {
    pub store: &'a Store,
    pub encoder: EncoderSource<'a>,
    /// Where the playbook's embeddings are cached, if anywhere.
    pub cache_dir: Option<&'a Path>,
    /// The instant of this step (injected, so tests control the breaker's clock).
    pub now: DateTime<FixedOffset>,
}

/// The coach of one call.
pub(crate) struct CallCoach {
    playbook: Arc<Playbook>,
    setup: CallSetup,
    tracker: Tracker,
    curve: Curve,
    seen_scripts: HashSet<String>,
    questioned: HashSet<String>,
    intents: HashSet<String>,
    suggestions_made: u32,
    language: String,
}

impl CallCoach {
    /// A coach for a new call on `playbook`.
    pub(crate) fn new(playbook: Arc<Playbook>, setup: CallSetup) -> CallCoach {
        let tracker = Tracker::new(&playbook, &setup.catalogue);
        let language = setup.language.clone().unwrap_or_else(|| "en".into());
        CallCoach {
            playbook,
            tracker,
            curve: Curve::default(),
            seen_scripts: HashSet::new(),
            questioned: HashSet::new(),
            intents: HashSet::new(),
            suggestions_made: 0,
            language,
            setup,
        }
    }

    /// The events one final utterance causes, in order: compliance items satisfied, then
    /// suggestions or guiding questions, then alerts.
    pub(crate) fn on_utterance(
        &mut self,
        u: &CallUtterance,
        ctx: &CoachContext,
    ) -> Result<Vec<CoachEvent>> {
        let folded = text::fold(&u.text);
        let language = self.language_of(&u.text);
        let mut events = self.compliance_events(u, &folded, &language);
        self.intents.insert(u.classification.intent.clone());
        let from_customer = u.speaker != Some(Speaker::Rep) && !folded.is_empty();
        if from_customer {
            let encoder = (ctx.encoder)()?;
            let index = suggest::index(&self.playbook, &encoder, ctx.cache_dir)?;
            let query = encoder.embed(&u.text)?;
            events.extend(self.coach(u, ctx, (&index, &query), &language)?);
            events.extend(self.feel(u, (&index, &query), &language));
        }
        events.extend(self.overdue(u, &language));
        Ok(events)
    }

    fn language_of(&self, utterance: &str) -> String {
        match &self.setup.language {
            Some(language) => language.clone(),
            None if utterance.chars().any(text::is_han) => "zh".into(),
            None => "en".into(),
        }
    }

    fn compliance_events(
        &mut self,
        u: &CallUtterance,
        folded: &str,
        lang: &str,
    ) -> Vec<CoachEvent> {
        let first = self.tracker.observe(&self.playbook, u, folded);
        if !first.is_empty() {
            self.language = lang.to_string();
        }
        first
            .into_iter()
            .filter_map(|i| self.tracker.result(&self.playbook, i, lang))
            .map(|result| CoachEvent::ComplianceSatisfied { seq: u.seq, result })
            .collect()
    }

    /// Suggestions or guiding questions for the utterance's scenario, if the playbook coaches it.
    fn coach(
        &mut self,
        u: &CallUtterance,
        ctx: &CoachContext,
        (index, query): (&super::playbook::PlaybookIndex, &[f32]),
        language: &str,
    ) -> Result<Option<CoachEvent>> {
        self.language = language.to_string();
        let c = &u.classification;
        let scenario = c.objection.clone().unwrap_or_else(|| c.intent.clone());
        if !self.playbook.coaches(&scenario) {
            return Ok(None);
        }
        let key = (self.setup.rep_id.as_str(), scenario.as_str());
        let phase = breaker::gate(ctx.store, key, ctx.now, &self.playbook.breaker)?;
        if phase == BreakerPhase::Open {
            return Ok(self.questions(u.seq, &scenario, language));
        }
        let ranked = suggest::rank(
            &self.playbook,
            index,
            query,
            (&scenario, language),
            &self.seen_scripts,
        );
        let top = if phase == BreakerPhase::HalfOpen {
            1
        } else {
            self.playbook.suggest.top
        };
        let suggestions = self.suggestions(&ranked, top, phase == BreakerPhase::HalfOpen);
        if suggestions.is_empty() {
            return Ok(None);
        }
        self.remember(&suggestions, ctx)?;
        Ok(Some(CoachEvent::Suggestions {
            seq: u.seq,
            scenario,
            suggestions,
        }))
    }

    /// The guiding questions of a frozen scenario, once per call.
    fn questions(&mut self, seq: u32, scenario: &str, language: &str) -> Option<CoachEvent> {
        let questions = self.playbook.questions(scenario, language).to_vec();
        if questions.is_empty() || !self.questioned.insert(scenario.to_string()) {
            return None;
        }
        Some(CoachEvent::GuidingQuestions {
            seq,
            scenario: scenario.to_string(),
            questions,
        })
    }

    fn suggestions(
        &mut self,
        ranked: &[suggest::Ranked],
        top: usize,
        trial: bool,
    ) -> Vec<Suggestion> {
        let of = ranked.len();
        let mut out = Vec::new();
        for (n, r) in ranked.iter().take(top).enumerate() {
            let Some(script) = self.playbook.scripts.get(r.script) else {
                continue;
            };
            self.suggestions_made += 1;
            out.push(Suggestion {
                id: format!("{}:s{}", self.setup.call_id, self.suggestions_made),
                script_id: script.id.clone(),
                scenario: script.scenario.clone(),
                language: script.language.clone(),
                reply: script.reply.clone(),
                situation: script.situation.clone(),
                rank: n as u32 + 1,
                score: r.score,
                similarity: r.similarity,
                win_rate: r.win_rate,
                reason: suggest::reason(script, r, n + 1, of),
                trial,
            });
        }
        out
    }

    /// Marks the scripts seen in this call and registers the suggestions as shown.
    fn remember(&mut self, suggestions: &[Suggestion], ctx: &CoachContext) -> Result<()> {
        let rows: Vec<SuggestionRow> = suggestions
            .iter()
            .map(|s| SuggestionRow {
                id: s.id.clone(),
                rep_id: self.setup.rep_id.clone(),
                call_id: Some(self.setup.call_id.clone()),
                scenario: s.scenario.clone(),
                script_id: s.script_id.clone(),
                fate: "shown".into(),
            })
            .collect();
        let at = ctx.now.to_rfc3339();
        ctx.store
            .write(|tx| rows::save_suggestions(tx, &rows, &at))?;
        self.seen_scripts
            .extend(suggestions.iter().map(|s| s.script_id.clone()));
        Ok(())
    }

    /// Scores the customer's sentiment; an alert when it falls sharply.
    fn feel(
        &mut self,
        u: &CallUtterance,
        (index, query): (&super::playbook::PlaybookIndex, &[f32]),
        language: &str,
    ) -> Option<CoachEvent> {
        let (score, class) = suggest::sentiment(&self.playbook, index, query);
        let label = self
            .playbook
            .classes
            .get(class)
            .map_or("", |c| c.id.as_str());
        let point = Scored {
            seq: u.seq,
            at_s: u.start_s,
            score,
            label: label.to_string(),
        };
        let fall = self.curve.push(point, &self.playbook.sentiment)?;
        let message = if language == "zh" {
            format!("客户情绪明显下滑（下降 {fall:.1}），先倾听、确认对方的顾虑")
        } else {
            format!(
                "The customer's mood fell sharply (by {fall:.1}); listen and confirm the concern"
            )
        };
        Some(CoachEvent::Alert {
            seq: u.seq,
            alert: CoachAlert {
                kind: "sentiment_drop".into(),
                item: None,
                message,
            },
        })
    }

    fn overdue(&mut self, u: &CallUtterance, language: &str) -> Vec<CoachEvent> {
        let late = self.tracker.overdue(&self.playbook, u.end_s);
        late.into_iter()
            .filter_map(|i| self.playbook.compliance.get(i))
            .map(|item| CoachEvent::Alert {
                seq: u.seq,
                alert: CoachAlert {
                    kind: "compliance_due".into(),
                    item: Some(item.id.clone()),
                    message: compliance::describe(item, language),
                },
            })
            .collect()
    }

    /// Ends the call: compliance results, score and sentiment curve, and the rep's streaks
    /// updated with any coaching task in the outbox, all in one transaction. Finishing a call
    /// whose streaks were already counted changes nothing in the store.
    pub(crate) fn finish(
        &mut self,
        ctx: &CoachContext,
        call_end: DateTime<FixedOffset>,
    ) -> Result<CallCoaching> {
        let compliance = self.tracker.results(&self.playbook, &self.language);
        let (counted, tasks) = ctx.store.write(|tx| {
            let at = ctx.now.to_rfc3339();
            if !rows::mark_call_counted(tx, &self.setup.call_id, &self.setup.rep_id, &at)? {
                return Ok((false, Vec::new()));
            }
            let mut tasks = Vec::new();
            for result in &compliance {
                tasks.extend(self.streak(tx, result, call_end, &at)?);
            }
            Ok((true, tasks))
        })?;
        Ok(CallCoaching {
            call_id: self.setup.call_id.clone(),
            rep_id: self.setup.rep_id.clone(),
            playbook_version: self.playbook.version.clone(),
            score: self.score(&compliance),
            sentiment: self.curve.points(&self.playbook.sentiment),
            compliance,
            tasks,
            streaks_counted: counted,
        })
    }

    /// Moves one item's streak; at the threshold, one task and the count starts again.
    fn streak(
        &self,
        tx: &rusqlite::Transaction,
        result: &super::ComplianceResult,
        call_end: DateTime<FixedOffset>,
        at: &str,
    ) -> Result<Option<CoachingTask>> {
        let rep = &self.setup.rep_id;
        if result.satisfied {
            rows::put_streak(tx, rep, &result.item, (0, &[]), at)?;
            return Ok(None);
        }
        let (missed, mut calls) = rows::streak(tx, rep, &result.item)?;
        calls.push(self.setup.call_id.clone());
        let missed = missed + 1;
        if missed < self.playbook.streaks.misses_for_task {
            rows::put_streak(tx, rep, &result.item, (missed, &calls), at)?;
            return Ok(None);
        }
        let hours = self.playbook.streaks.task_due_hours;
        let due = call_end + Duration::milliseconds((hours * 3.6e6) as i64);
        let payload = serde_json::json!({
            "rep_id": rep,
            "item": result.item,
            "description": result.description,
            "call_ids": calls,
            "due_at": due.to_rfc3339(),
        });
        let id = crate::store::outbox::enqueue(tx, "coaching_task", &payload)?;
        rows::put_streak(tx, rep, &result.item, (0, &[]), at)?;
        tracing::debug!(item = %result.item, "coaching task raised");
        Ok(Some(CoachingTask {
            id,
            rep_id: rep.clone(),
            item: result.item.clone(),
            call_ids: calls,
            due_at: due.to_rfc3339(),
        }))
    }

    fn score(&self, compliance: &[super::ComplianceResult]) -> CallScore {
        let share = |hit: usize, of: usize| (of > 0).then(|| hit as f32 / of as f32);
        let said = compliance.iter().filter(|c| c.satisfied).count();
        let keys = &self.playbook.score.key_intents;
        let present = keys.iter().filter(|k| self.intents.contains(*k)).count();
        let parts = CallScore {
            overall: 0.0,
            required_coverage: share(said, compliance.len()),
            commitment_coverage: share(present, keys.len()),
            compliance_phrase_share: self.tracker.phrase_share(),
            sentiment_mean: self.curve.mean(),
        };
        let w = &self.playbook.score.weights;
        let weighted = [
            (parts.required_coverage, w.required),
            (parts.commitment_coverage, w.commitments),
            (parts.compliance_phrase_share, w.phrases),
            (parts.sentiment_mean.map(|s| (s + 1.0) / 2.0), w.sentiment),
        ];
        let (sum, weight) = weighted
            .iter()
            .filter_map(|(v, w)| v.map(|v| (v * w, *w)))
            .fold((0.0, 0.0), |(s, t), (v, w)| (s + v, t + w));
        let overall = if weight > 0.0 {
            100.0 * sum / weight
        } else {
            0.0
        };
        CallScore { overall, ..parts }
    }
}

/// The catalogue as the compliance check needs it.
pub(crate) fn catalogue(store: &Store) -> Result<Vec<CatalogueProduct>> {
    let products = store.read(crate::store::products)?;
    Ok(products
        .into_iter()
        .map(|(id, name_zh, name_en, registration_no)| CatalogueProduct {
            id,
            names: [name_zh, name_en].into_iter().flatten().collect(),
            registration_no,
        })
        .collect())
}
