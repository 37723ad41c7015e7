//! The notes of the bundled sales calls against the facts a careful listener wrote down
//! (`fixtures/calls/NAME.facts.json`), field by field.
//!
//! Each call's script goes through a live session as typed lines at the times the audio has
//! them (`NAME.times.tsv`), with the distributor's snapshot imported, so the note sees what an
//! app would give it. The scores of the tuning calls must stay above floors set a little under
//! what they were when this test was written; the two evaluation calls (`eval-*`, from which no
//! rule may be written) are scored and printed, never asserted, so they keep measuring how the
//! extractors do on calls they were not written from. Each note is written to
//! `target/tmp/call-notes/NAME.json` for a person to compare with the facts.

mod common;

use common::{engine, root, shared_data};
use copilot_core::{CallListener, CallOptions, LiveEvent, Note, Speaker};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

struct Quiet;

impl CallListener for Quiet {
    fn on_event(&self, _event: LiveEvent) {}
}

/// Hits, wrong answers and misses of one field over some calls.
#[derive(Default, Clone, Copy)]
struct Count {
    hit: usize,
    wrong: usize,
    missed: usize,
}

impl Count {
    fn add(&mut self, other: Count) {
        self.hit += other.hit;
        self.wrong += other.wrong;
        self.missed += other.missed;
    }

    /// F1 of the hits against the wrong answers and the misses; 1 when there was nothing.
    fn f1(&self) -> f64 {
        let denominator = 2 * self.hit + self.wrong + self.missed;
        if denominator == 0 {
            return 1.0;
        }
        2.0 * self.hit as f64 / denominator as f64
    }
}

/// Matches two lists of keys as multisets.
fn count<T: PartialEq>(expected: Vec<T>, mut found: Vec<T>) -> Count {
    let mut c = Count::default();
    for e in expected {
        match found.iter().position(|f| *f == e) {
            Some(i) => {
                found.swap_remove(i);
                c.hit += 1;
            }
            None => c.missed += 1,
        }
    }
    c.wrong = found.len();
    c
}

fn strings(value: &Value, field: &str) -> Vec<String> {
    value[field]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Each field's count for one call.
fn score(facts: &Value, note: &Note) -> BTreeMap<&'static str, Count> {
    let mut fields = BTreeMap::new();
    let expected_objections = facts["objections"].as_array().cloned().unwrap_or_default();
    let types = |o: &Value| o["type"].as_str().unwrap_or_default().to_string();
    fields.insert(
        "objection types",
        count(
            expected_objections.iter().map(types).collect(),
            note.objections.iter().map(|o| o.kind.clone()).collect(),
        ),
    );
    fields.insert(
        "objections answered",
        count(
            expected_objections
                .iter()
                .map(|o| (types(o), o["answered"].as_bool().unwrap_or(false)))
                .collect(),
            note.objections
                .iter()
                .map(|o| (o.kind.clone(), o.answered))
                .collect(),
        ),
    );
    let follow_up = facts["follow_up_date"].as_str().map(str::to_string);
    fields.insert(
        "follow-up date",
        count(
            follow_up.into_iter().collect(),
            note.follow_up_date.clone().into_iter().collect(),
        ),
    );
    let money =
        |amount: f64, currency: Option<&str>| format!("{amount:.2} {}", currency.unwrap_or("-"));
    fields.insert(
        "prices",
        count(
            facts["prices"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| {
                    money(
                        p["amount"].as_f64().unwrap_or(f64::NAN),
                        p["currency"].as_str(),
                    )
                })
                .collect(),
            note.prices
                .iter()
                .map(|p| money(p.amount, p.currency.as_deref()))
                .collect(),
        ),
    );
    fields.insert(
        "discounts",
        count(
            facts["discounts"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|d| format!("{:.1}", d["percent_off"].as_f64().unwrap_or(f64::NAN)))
                .collect(),
            note.discounts
                .iter()
                .map(|d| format!("{:.1}", d.percent_off))
                .collect(),
        ),
    );
    fields.insert(
        "products",
        count(
            strings(facts, "products"),
            note.products.iter().map(|p| p.id.clone()).collect(),
        ),
    );
    fields.insert(
        "competitors",
        count(strings(facts, "competitors"), note.competitors.clone()),
    );
    let dated = |who: Option<&str>, due: Option<&str>| {
        format!("{} {}", who.unwrap_or("-"), due.unwrap_or("-"))
    };
    fields.insert(
        "commitments (who, due)",
        count(
            facts["commitments"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| dated(c["who"].as_str(), c["due_date"].as_str()))
                .collect(),
            note.commitments
                .iter()
                .map(|c| dated(c.who.map(Speaker::as_str), c.due_date.as_deref()))
                .collect(),
        ),
    );
    let mut compliance = Count::default();
    if let Some(items) = facts["compliance"].as_object() {
        for (item, said) in items {
            let found = note.compliance.iter().find(|c| &c.item == item);
            match found.map(|c| c.satisfied) {
                Some(s) if Some(s) == said.as_bool() => compliance.hit += 1,
                Some(_) => compliance.wrong += 1,
                None => compliance.missed += 1,
            }
        }
    }
    fields.insert("compliance items", compliance);
    fields
}

/// The script's lines with their times in the audio.
fn lines(dir: &Path, name: &str) -> Vec<(Option<Speaker>, String, f64)> {
    let script = std::fs::read_to_string(dir.join(format!("{name}.txt"))).unwrap();
    let times = std::fs::read_to_string(dir.join(format!("{name}.times.tsv"))).unwrap();
    let starts: Vec<f64> = times
        .lines()
        .skip(1)
        .map(|l| l.split('\t').next().unwrap().parse().unwrap())
        .collect();
    script
        .lines()
        .zip(starts)
        .map(|(line, at)| {
            let (who, text) = line.split_once(':').unwrap();
            let speaker = match who.trim() {
                "rep" => Some(Speaker::Rep),
                _ => Some(Speaker::Customer),
            };
            (speaker, text.trim().to_string(), at)
        })
        .collect()
}

fn note_of(engine: &Arc<copilot_core::Engine>, facts: &Value, name: &str) -> Note {
    let options = CallOptions {
        rep_id: facts["rep_id"].as_str().unwrap().into(),
        customer_id: facts["customer_id"].as_str().map(str::to_string),
        started_at: format!("{}T10:00:00+08:00", facts["call_date"].as_str().unwrap()),
        language: facts["language"].as_str().map(str::to_string),
        consent_to_record: false,
        asr_model: None,
        threads: Some(1),
        script: None,
    };
    let call = engine.clone().start_call(options, Arc::new(Quiet)).unwrap();
    for (speaker, text, at) in lines(&root().join("fixtures/calls"), name) {
        call.push_line(speaker, text, Some(at)).unwrap();
    }
    call.finish().unwrap().note
}

#[test]
fn the_bundled_calls_notes_hold_their_facts() {
    let engine = engine(&shared_data());
    let snapshot = root().join("fixtures/customers/distributor.json");
    engine
        .import_snapshot(snapshot.display().to_string())
        .unwrap();
    let dir = root().join("fixtures/calls");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".facts.json").map(str::to_string)
        })
        .collect();
    names.sort();
    assert_eq!(names.len(), 8, "the bundled calls");
    let (mut tuning, mut evaluation) = (BTreeMap::new(), BTreeMap::new());
    let mut completeness = Vec::new();
    for name in &names {
        let facts: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("{name}.facts.json"))).unwrap(),
        )
        .unwrap();
        let note = note_of(&engine, &facts, name);
        let written = root().join("target/tmp/call-notes");
        std::fs::create_dir_all(&written).unwrap();
        let json = serde_json::to_string_pretty(&note).unwrap();
        std::fs::write(written.join(format!("{name}.json")), json).unwrap();
        assert!(note
            .customer
            .as_ref()
            .is_some_and(|c| c.in_cache && !c.name.is_empty()));
        let fields = score(&facts, &note);
        let line: Vec<String> = fields
            .iter()
            .map(|(f, c)| format!("{f} {}/{}/{}", c.hit, c.wrong, c.missed))
            .collect();
        println!(
            "{name:<24} completeness {:.2}  {}",
            note.completeness,
            line.join("  ")
        );
        completeness.push(note.completeness);
        let total = if name.starts_with("eval-") {
            &mut evaluation
        } else {
            &mut tuning
        };
        for (field, c) in fields {
            total.entry(field).or_insert_with(Count::default).add(c);
        }
    }
    println!("\nF1 by field (hit/wrong/missed)     tuning calls        evaluation calls");
    for (field, t) in &tuning {
        let e = evaluation[field];
        println!(
            "{field:<28} {:.2} ({}/{}/{})      {:.2} ({}/{}/{})",
            t.f1(),
            t.hit,
            t.wrong,
            t.missed,
            e.f1(),
            e.hit,
            e.wrong,
            e.missed
        );
    }
    let mean = completeness.iter().sum::<f32>() / completeness.len() as f32;
    println!("mean completeness {mean:.2}");
    for (field, floor) in FLOORS {
        let f1 = tuning[field].f1();
        assert!(
            f1 >= floor,
            "{field}: F1 {f1:.2} on the tuning calls is under {floor}"
        );
    }
}

/// The lowest F1 each field may have on the six tuning calls. Objection types are low because
/// the classifier labels many ordinary customer turns ("价格呢？", "And what probes come with
/// it?") with an objection by their nearest example; that is the classifier's to fix.
const FLOORS: [(&str, f64); 7] = [
    ("objection types", 0.5),
    ("follow-up date", 0.9),
    ("prices", 0.9),
    ("discounts", 0.9),
    ("products", 0.85),
    ("competitors", 0.9),
    ("compliance items", 0.85),
];
