//! The circuit breaker: the copilot steps back from a scenario when the rep keeps rejecting its
//! suggestions there.
//!
//! Per rep and scenario. `deleted` in a row (default 2) freezes the scenario (state `open`);
//! `used` or `edited` resets the count. While frozen the rep gets guiding questions instead of
//! scripts. After the cool-down (default 24 h) the next look at the breaker finds it half-open:
//! one suggestion is shown, and `used`/`edited` closes it while `deleted` freezes it again. A
//! manager's reset closes it at once. Feedback on a suggestion while frozen resets or adds to the
//! count but does not thaw the scenario: only the cool-down or a reset does.
//!
//! Time is always passed in, never read here. A clock that goes backwards (an instant earlier
//! than the breaker's last update) is taken as the last update itself, so the state never moves
//! back in time and a cool-down is never shortened or lengthened by a clock correction.
//! Every change of state (not of the count) writes a `breaker_changed` outbox event in the same
//! transaction as the state.

use super::{BreakerPhase, BreakerState, FeedbackOutcome, SuggestionFate};
use crate::coach::playbook::BreakerSettings;
use crate::error::{Error, Result};
use crate::store::coach::{self as rows, BreakerRow};
use crate::store::Store;
use chrono::{DateTime, Duration, FixedOffset};
use rusqlite::Transaction;

/// One breaker in memory.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Breaker {
    pub rep_id: String,
    pub scenario: String,
    pub phase: BreakerPhase,
    pub deleted_in_row: u32,
    pub opened_at: Option<DateTime<FixedOffset>>,
    pub updated_at: DateTime<FixedOffset>,
}

/// Why a breaker changed state, as the outbox event says.
#[derive(Debug, Clone, Copy)]
enum Cause {
    Deleted,
    Accepted,
    CoolDown,
    Reset,
}

impl Cause {
    fn as_str(self) -> &'static str {
        match self {
            Cause::Deleted => "deleted_in_row",
            Cause::Accepted => "suggestion_accepted",
            Cause::CoolDown => "cool_down_elapsed",
            Cause::Reset => "manager_reset",
        }
    }
}

impl Breaker {
    /// A closed breaker, never touched before `now`.
    pub(crate) fn new(rep: &str, scenario: &str, now: DateTime<FixedOffset>) -> Breaker {
        Breaker {
            rep_id: rep.to_string(),
            scenario: scenario.to_string(),
            phase: BreakerPhase::Closed,
            deleted_in_row: 0,
            opened_at: None,
            updated_at: now,
        }
    }

    /// `now`, or the last update when `now` is earlier (a clock that went backwards).
    fn clamp(&self, now: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
        now.max(self.updated_at)
    }

    /// When a frozen breaker becomes half-open.
    pub(crate) fn thaws_at(&self, settings: &BreakerSettings) -> Option<DateTime<FixedOffset>> {
        let cool_down = Duration::milliseconds((settings.cool_down_hours * 3.6e6) as i64);
        match self.phase {
            BreakerPhase::Open => self.opened_at.map(|at| at + cool_down),
            _ => None,
        }
    }

    /// Lets the cool-down act: a frozen breaker whose cool-down ended by `now` turns half-open.
    fn tick(&mut self, now: DateTime<FixedOffset>, settings: &BreakerSettings) -> Option<Cause> {
        let now = self.clamp(now);
        let thawed = self.thaws_at(settings).is_some_and(|at| now >= at);
        if !thawed {
            return None;
        }
        self.phase = BreakerPhase::HalfOpen;
        self.deleted_in_row = 0;
        self.updated_at = now;
        Some(Cause::CoolDown)
    }

    /// Applies one suggestion's fate; returns the cause when the state changed.
    fn apply(
        &mut self,
        fate: SuggestionFate,
        now: DateTime<FixedOffset>,
        settings: &BreakerSettings,
    ) -> Option<Cause> {
        let now = self.clamp(now);
        self.updated_at = now;
        match (fate, self.phase) {
            (SuggestionFate::Shown, _) => None,
            (SuggestionFate::Used | SuggestionFate::Edited, BreakerPhase::HalfOpen) => {
                self.deleted_in_row = 0;
                self.phase = BreakerPhase::Closed;
                self.opened_at = None;
                Some(Cause::Accepted)
            }
            (SuggestionFate::Used | SuggestionFate::Edited, _) => {
                self.deleted_in_row = 0;
                None
            }
            (SuggestionFate::Deleted, BreakerPhase::HalfOpen) => {
                self.deleted_in_row += 1;
                self.freeze(now)
            }
            (SuggestionFate::Deleted, BreakerPhase::Open) => {
                self.deleted_in_row += 1;
                None
            }
            (SuggestionFate::Deleted, BreakerPhase::Closed) => {
                self.deleted_in_row += 1;
                let limit = settings.deletions_to_freeze;
                (self.deleted_in_row >= limit)
                    .then(|| self.freeze(now))
                    .flatten()
            }
        }
    }

    fn freeze(&mut self, now: DateTime<FixedOffset>) -> Option<Cause> {
        self.phase = BreakerPhase::Open;
        self.opened_at = Some(now);
        Some(Cause::Deleted)
    }

    /// A manager's reset: closes a frozen or half-open breaker at once.
    fn reset(&mut self, now: DateTime<FixedOffset>) -> Result<Cause> {
        if self.phase == BreakerPhase::Closed {
            return Err(Error::InvalidInput(format!(
                "the scenario '{}' is not frozen for rep '{}'; there is nothing to reset",
                self.scenario, self.rep_id
            )));
        }
        self.updated_at = self.clamp(now);
        self.phase = BreakerPhase::Closed;
        self.deleted_in_row = 0;
        self.opened_at = None;
        Ok(Cause::Reset)
    }

    fn from_row(row: BreakerRow, now: DateTime<FixedOffset>) -> Breaker {
        let parse = |text: &str| DateTime::parse_from_rfc3339(text).ok();
        let phase = match row.state.as_str() {
            "open" => BreakerPhase::Open,
            "half_open" => BreakerPhase::HalfOpen,
            _ => BreakerPhase::Closed,
        };
        Breaker {
            phase,
            deleted_in_row: row.deleted_in_row,
            opened_at: row.opened_at.as_deref().and_then(parse),
            updated_at: parse(&row.updated_at).unwrap_or(now),
            rep_id: row.rep_id,
            scenario: row.scenario,
        }
    }

    fn to_row(&self) -> BreakerRow {
        BreakerRow {
            rep_id: self.rep_id.clone(),
            scenario: self.scenario.clone(),
            state: self.phase.as_str().to_string(),
            deleted_in_row: self.deleted_in_row,
            opened_at: self.opened_at.map(|t| t.to_rfc3339()),
            updated_at: self.updated_at.to_rfc3339(),
        }
    }

    /// The exported view.
    pub(crate) fn state(&self, settings: &BreakerSettings) -> BreakerState {
        BreakerState {
            rep_id: self.rep_id.clone(),
            scenario: self.scenario.clone(),
            state: self.phase,
            deleted_in_row: self.deleted_in_row,
            opened_at: self.opened_at.map(|t| t.to_rfc3339()),
            half_open_at: self.thaws_at(settings).map(|t| t.to_rfc3339()),
            updated_at: self.updated_at.to_rfc3339(),
        }
    }
}

/// Reads a breaker inside a write transaction, lets the cool-down act, and saves any change.
fn load(
    tx: &Transaction,
    (rep, scenario): (&str, &str),
    now: DateTime<FixedOffset>,
    settings: &BreakerSettings,
) -> Result<Breaker> {
    let mut breaker = match rows::breaker(tx, rep, scenario)? {
        Some(row) => Breaker::from_row(row, now),
        None => return Ok(Breaker::new(rep, scenario, now)),
    };
    let before = breaker.phase;
    if let Some(cause) = breaker.tick(now, settings) {
        save(tx, &breaker, before, Some(cause))?;
    }
    Ok(breaker)
}

/// Saves a breaker, with a `breaker_changed` event when its state changed.
fn save(tx: &Transaction, b: &Breaker, before: BreakerPhase, cause: Option<Cause>) -> Result<()> {
    rows::put_breaker(tx, &b.to_row())?;
    let Some(cause) = cause else {
        return Ok(());
    };
    let payload = serde_json::json!({
        "rep_id": b.rep_id,
        "scenario": b.scenario,
        "from": before.as_str(),
        "to": b.phase.as_str(),
        "cause": cause.as_str(),
        "at": b.updated_at.to_rfc3339(),
    });
    crate::store::outbox::enqueue(tx, "breaker_changed", &payload)?;
    tracing::debug!(scenario = %b.scenario, to = b.phase.as_str(), "breaker changed");
    Ok(())
}

/// The state a scenario is in for a rep at `now` (writing the half-open change if the
/// cool-down just ended).
pub(crate) fn gate(
    store: &Store,
    (rep, scenario): (&str, &str),
    now: DateTime<FixedOffset>,
    settings: &BreakerSettings,
) -> Result<BreakerPhase> {
    let frozen = store.read(|c| rows::breaker(c, rep, scenario))?;
    if frozen.as_ref().is_none_or(|r| r.state == "closed") {
        return Ok(BreakerPhase::Closed);
    }
    store.write(|tx| Ok(load(tx, (rep, scenario), now, settings)?.phase))
}

/// Records the rep's reaction to a suggestion and moves its scenario's breaker.
///
/// A suggestion that was never shown (or was shown to another rep) is not found. A suggestion's
/// final fate (`used`, `edited`, `deleted`) is kept once: the same fate again is accepted and
/// changes nothing (`recorded` is false, so an app may retry safely); a different one is refused.
pub(crate) fn record_feedback(
    store: &Store,
    (rep, suggestion_id): (&str, &str),
    fate: SuggestionFate,
    now: DateTime<FixedOffset>,
    settings: &BreakerSettings,
) -> Result<FeedbackOutcome> {
    store.write(|tx| {
        let row = rows::suggestion(tx, suggestion_id)?
            .filter(|r| r.rep_id == rep)
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "no suggestion '{suggestion_id}' was shown to rep '{rep}'"
                ))
            })?;
        let mut breaker = load(tx, (rep, &row.scenario), now, settings)?;
        let recorded = accepts(&row.fate, fate, suggestion_id)?;
        if recorded {
            rows::record_fate(tx, &row, fate.as_str(), &breaker.clamp(now).to_rfc3339())?;
            let before = breaker.phase;
            let cause = breaker.apply(fate, now, settings);
            save(tx, &breaker, before, cause)?;
        }
        Ok(FeedbackOutcome {
            suggestion_id: suggestion_id.to_string(),
            scenario: row.scenario.clone(),
            fate,
            recorded,
            breaker: breaker.state(settings),
        })
    })
}

/// Whether a fate may be recorded on a suggestion whose fate is `current`.
fn accepts(current: &str, fate: SuggestionFate, id: &str) -> Result<bool> {
    if current == "shown" {
        return Ok(fate != SuggestionFate::Shown);
    }
    if fate == SuggestionFate::Shown || current == fate.as_str() {
        return Ok(false);
    }
    Err(Error::InvalidInput(format!(
        "the suggestion '{id}' already has the final fate '{current}'; it cannot become '{}'",
        fate.as_str()
    )))
}

/// Every breaker of a rep at `now` (half-open where the cool-down has ended).
pub(crate) fn states(
    store: &Store,
    rep: &str,
    now: DateTime<FixedOffset>,
    settings: &BreakerSettings,
) -> Result<Vec<BreakerState>> {
    store.write(|tx| {
        let scenarios: Vec<String> = rows::breakers(tx, rep)?
            .into_iter()
            .map(|r| r.scenario)
            .collect();
        scenarios
            .iter()
            .map(|s| Ok(load(tx, (rep, s), now, settings)?.state(settings)))
            .collect()
    })
}

/// A manager's reset of one scenario for a rep: closed at once. A scenario that is not frozen
/// or half-open is refused with an error and nothing changes.
pub(crate) fn reset(
    store: &Store,
    (rep, scenario): (&str, &str),
    now: DateTime<FixedOffset>,
    settings: &BreakerSettings,
) -> Result<BreakerState> {
    store.write(|tx| {
        let mut breaker = load(tx, (rep, scenario), now, settings)?;
        let before = breaker.phase;
        let cause = breaker.reset(now)?;
        save(tx, &breaker, before, Some(cause))?;
        Ok(breaker.state(settings))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::coach::SuggestionRow;
    use crate::store::DB_FILE;

    fn at(hours: f64) -> DateTime<FixedOffset> {
        let base = DateTime::parse_from_rfc3339("2026-12-01T09:00:00+08:00").unwrap();
        base + Duration::milliseconds((hours * 3.6e6) as i64)
    }

    fn settings() -> BreakerSettings {
        BreakerSettings {
            deletions_to_freeze: 2,
            cool_down_hours: 24.0,
        }
    }

    fn show(store: &Store, id: &str) {
        let row = SuggestionRow {
            id: id.into(),
            rep_id: "rep-li".into(),
            call_id: Some("call-1".into()),
            scenario: "price_too_high".into(),
            script_id: "price_too_high-zh-1".into(),
            fate: "shown".into(),
        };
        store
            .write(|tx| rows::save_suggestions(tx, &[row], "2026-12-01T09:00:00+08:00"))
            .unwrap();
    }

    fn feedback(store: &Store, id: &str, fate: SuggestionFate, hours: f64) -> FeedbackOutcome {
        show(store, id);
        record_feedback(store, ("rep-li", id), fate, at(hours), &settings()).unwrap()
    }

    fn events(store: &Store) -> Vec<serde_json::Value> {
        let records = store
            .read(|c| crate::store::outbox::pending(c, 1000))
            .unwrap();
        records
            .iter()
            .filter(|r| r.kind == "breaker_changed")
            .map(|r| serde_json::from_str(&r.payload).unwrap())
            .collect()
    }

    fn phase(store: &Store, hours: f64) -> BreakerPhase {
        gate(store, ("rep-li", "price_too_high"), at(hours), &settings()).unwrap()
    }

    #[test]
    fn every_transition_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE);
        let store = Store::open(&path).unwrap();
        // Closed: one deletion counts, a use resets the count, two in a row freeze.
        assert_eq!(
            feedback(&store, "s1", SuggestionFate::Deleted, 0.0)
                .breaker
                .deleted_in_row,
            1
        );
        assert_eq!(
            feedback(&store, "s2", SuggestionFate::Used, 0.1)
                .breaker
                .deleted_in_row,
            0
        );
        feedback(&store, "s3", SuggestionFate::Deleted, 0.2);
        let frozen = feedback(&store, "s4", SuggestionFate::Deleted, 0.3);
        assert_eq!(frozen.breaker.state, BreakerPhase::Open);
        assert_eq!(events(&store).len(), 1);
        drop(store);

        // Across a restart: still frozen until the cool-down ends, then half-open.
        let store = Store::open(&path).unwrap();
        assert_eq!(phase(&store, 24.0), BreakerPhase::Open);
        assert_eq!(phase(&store, 24.3), BreakerPhase::HalfOpen);
        // Half-open: a deletion freezes again, with a new cool-down.
        let again = feedback(&store, "s5", SuggestionFate::Deleted, 25.0);
        assert_eq!(again.breaker.state, BreakerPhase::Open);
        assert_eq!(phase(&store, 48.9), BreakerPhase::Open);
        assert_eq!(phase(&store, 49.0), BreakerPhase::HalfOpen);
        drop(store);

        // Half-open: an edit closes it.
        let store = Store::open(&path).unwrap();
        let closed = feedback(&store, "s6", SuggestionFate::Edited, 50.0);
        assert_eq!(closed.breaker.state, BreakerPhase::Closed);
        assert_eq!(closed.breaker.opened_at, None);
        // Manager reset closes a frozen scenario at once.
        feedback(&store, "s7", SuggestionFate::Deleted, 51.0);
        feedback(&store, "s8", SuggestionFate::Deleted, 51.1);
        assert_eq!(phase(&store, 51.2), BreakerPhase::Open);
        let reset = reset(&store, ("rep-li", "price_too_high"), at(51.3), &settings()).unwrap();
        assert_eq!(reset.state, BreakerPhase::Closed);
        let causes: Vec<String> = events(&store)
            .iter()
            .map(|e| format!("{}>{}:{}", e["from"], e["to"], e["cause"]).replace('"', ""))
            .collect();
        assert_eq!(
            causes,
            [
                "closed>open:deleted_in_row",
                "open>half_open:cool_down_elapsed",
                "half_open>open:deleted_in_row",
                "open>half_open:cool_down_elapsed",
                "half_open>closed:suggestion_accepted",
                "closed>open:deleted_in_row",
                "open>closed:manager_reset",
            ]
        );
    }

    #[test]
    fn a_use_while_frozen_resets_the_count_but_does_not_thaw() {
        let (_dir, store) = crate::store::tests::temp_store();
        feedback(&store, "s1", SuggestionFate::Deleted, 0.0);
        feedback(&store, "s2", SuggestionFate::Deleted, 0.0);
        let used = feedback(&store, "s3", SuggestionFate::Used, 1.0);
        assert_eq!(used.breaker.state, BreakerPhase::Open);
        assert_eq!(used.breaker.deleted_in_row, 0);
    }

    #[test]
    fn a_clock_that_goes_backwards_never_moves_the_state_back() {
        let (_dir, store) = crate::store::tests::temp_store();
        feedback(&store, "s1", SuggestionFate::Deleted, 10.0);
        // Two hours earlier: taken as the last update, so the freeze starts at hour 10.
        let frozen = feedback(&store, "s2", SuggestionFate::Deleted, 8.0);
        assert_eq!(frozen.breaker.opened_at, Some(at(10.0).to_rfc3339()));
        assert_eq!(frozen.breaker.updated_at, at(10.0).to_rfc3339());
        assert_eq!(phase(&store, -100.0), BreakerPhase::Open);
        assert_eq!(phase(&store, 33.9), BreakerPhase::Open);
        assert_eq!(phase(&store, 34.0), BreakerPhase::HalfOpen);
        assert_eq!(phase(&store, 0.0), BreakerPhase::HalfOpen);
    }

    #[test]
    fn unknown_suggestions_repeats_and_needless_resets_have_defined_results() {
        let (_dir, store) = crate::store::tests::temp_store();
        let s = settings();
        let unknown = record_feedback(
            &store,
            ("rep-li", "nope"),
            SuggestionFate::Used,
            at(0.0),
            &s,
        );
        assert!(matches!(unknown, Err(Error::NotFound(_))));
        show(&store, "s1");
        let other_rep = record_feedback(
            &store,
            ("rep-wang", "s1"),
            SuggestionFate::Used,
            at(0.0),
            &s,
        );
        assert!(matches!(other_rep, Err(Error::NotFound(_))));

        assert!(feedback(&store, "s1", SuggestionFate::Deleted, 0.0).recorded);
        let same = record_feedback(
            &store,
            ("rep-li", "s1"),
            SuggestionFate::Deleted,
            at(0.1),
            &s,
        );
        let same = same.unwrap();
        assert!(!same.recorded, "a repeated final fate changes nothing");
        assert_eq!(same.breaker.deleted_in_row, 1);
        let other = record_feedback(&store, ("rep-li", "s1"), SuggestionFate::Used, at(0.2), &s);
        assert!(matches!(other, Err(Error::InvalidInput(ref m)) if m.contains("final fate")));
        let count: i64 = store
            .read(
                |c| Ok(c.query_row("SELECT count(*) FROM suggestion_feedback", [], |r| r.get(0))?),
            )
            .unwrap();
        assert_eq!(count, 1);

        let needless = reset(&store, ("rep-li", "price_too_high"), at(1.0), &s);
        assert!(matches!(needless, Err(Error::InvalidInput(ref m)) if m.contains("not frozen")));
        let never = reset(&store, ("rep-li", "budget"), at(1.0), &s);
        assert!(matches!(never, Err(Error::InvalidInput(_))));
        assert!(events(&store).is_empty());
    }
}
