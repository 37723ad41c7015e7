//! `copilot classify` and `copilot eval`: the classifier on lines of text, and its scores on a
//! labelled file.
//!
//! Both read text that may be anything (a transcript, a chat export, a file of another
//! encoding), so invalid UTF-8 is decoded with replacement characters and every line still gets
//! an answer; one answer per input line keeps the output aligned with the input.

use anyhow::{bail, Context, Result};
use copilot_core::{Classification, Engine, Speaker, Utterance};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, Write};
use std::path::Path;

/// The label that stands for "no objection" in the objection scores.
const NONE: &str = "-";

/// Splits an optional `rep:` or `customer:` prefix off a line.
pub fn speaker_prefix(line: &str) -> (Option<Speaker>, &str) {
    let trimmed = line.trim_start();
    for (prefix, speaker) in [("rep:", Speaker::Rep), ("customer:", Speaker::Customer)] {
        let head = trimmed.get(..prefix.len());
        if head.is_some_and(|h| h.eq_ignore_ascii_case(prefix)) {
            let rest = trimmed.get(prefix.len()..).unwrap_or("");
            return (Some(speaker), rest.trim());
        }
    }
    (None, line.trim())
}

/// Classifies each stdin line, the line before it as its previous utterance.
pub fn classify_stdin(engine: &Engine, json: bool) -> Result<()> {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut out = std::io::stdout().lock();
    let mut previous: Option<String> = None;
    let mut raw = Vec::new();
    loop {
        raw.clear();
        if input.read_until(b'\n', &mut raw)? == 0 {
            break;
        }
        let line = String::from_utf8_lossy(&raw);
        let line = line.trim_end_matches(['\n', '\r']);
        let (speaker, text) = speaker_prefix(line);
        let utterance = Utterance {
            text: text.to_string(),
            speaker,
            previous: previous.take(),
        };
        let result = engine.classify(utterance)?;
        writeln!(out, "{}", render(&result, json)?)?;
        previous = Some(text.to_string()).filter(|t| !t.is_empty());
    }
    Ok(())
}

fn render(c: &Classification, json: bool) -> Result<String> {
    if json {
        let doc = serde_json::json!({
            "text": c.text,
            "speaker": c.speaker,
            "intent": c.intent,
            "objection": c.objection,
            "confidence": (c.confidence * 1000.0).round() / 1000.0,
            "evidence": c.evidence.text,
            "evidence_source": c.evidence.source,
            "similarity": c.evidence.similarity.map(|s| (s * 1000.0).round() / 1000.0),
            "lexicon_version": c.lexicon_version,
        });
        return Ok(doc.to_string());
    }
    let label = match &c.objection {
        Some(o) => format!("{}/{o}", c.intent),
        None => c.intent.clone(),
    };
    Ok(format!(
        "{label:<28} {:.2}  {}   [{}]",
        c.confidence, c.text, c.evidence.text
    ))
}

/// One labelled line of an evaluation file.
struct Labelled {
    language: String,
    intent: String,
    objection: String,
    text: String,
    previous: Option<String>,
}

fn read_labelled(path: &Path) -> Result<Vec<Labelled>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let text = String::from_utf8_lossy(&bytes);
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let [language, intent, objection, text, rest @ ..] = cols.as_slice() else {
            bail!(
                "{} line {}: expected language, intent, objection and text separated by tabs",
                path.display(),
                n + 1
            );
        };
        rows.push(Labelled {
            language: language.trim().to_string(),
            intent: intent.trim().to_string(),
            objection: objection.trim().to_string(),
            text: text.to_string(),
            previous: rest
                .first()
                .map(|p| p.to_string())
                .filter(|p| !p.is_empty()),
        });
    }
    Ok(rows)
}

/// Gold and predicted labels of a set of lines.
#[derive(Default)]
struct Tally {
    pairs: Vec<(String, String)>,
}

impl Tally {
    fn accuracy(&self) -> f64 {
        let right = self.pairs.iter().filter(|(g, p)| g == p).count();
        right as f64 / self.pairs.len().max(1) as f64
    }

    /// Precision, recall, F1 and support of one label.
    fn prf(&self, label: &str) -> (f64, f64, f64, usize) {
        let tp = self
            .pairs
            .iter()
            .filter(|(g, p)| g == label && p == label)
            .count();
        let predicted = self.pairs.iter().filter(|(_, p)| p == label).count();
        let gold = self.pairs.iter().filter(|(g, _)| g == label).count();
        let p = tp as f64 / predicted.max(1) as f64;
        let r = tp as f64 / gold.max(1) as f64;
        let f = if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        };
        (p, r, f, gold)
    }

    fn gold_labels(&self, skip: &str) -> BTreeSet<String> {
        self.pairs
            .iter()
            .map(|(g, _)| g.clone())
            .filter(|g| g != skip)
            .collect()
    }

    /// The mean F1 over the gold labels other than `skip`.
    fn macro_f1(&self, skip: &str) -> f64 {
        let labels = self.gold_labels(skip);
        let sum: f64 = labels.iter().map(|l| self.prf(l).2).sum();
        sum / labels.len().max(1) as f64
    }
}

/// The scores of one language.
#[derive(Default)]
struct Scores {
    intent: Tally,
    objection: Tally,
}

/// What `copilot eval` demands; below either floor it exits with failure.
pub struct Floors {
    pub objection_macro_f1: Option<f64>,
    pub intent_accuracy: Option<f64>,
}

/// Classifies every line of a labelled file, prints the scores per language and tells whether
/// every language reaches the floors.
pub fn eval(engine: &Engine, path: &Path, floors: &Floors, json: bool) -> Result<bool> {
    let rows = read_labelled(path)?;
    let mut by_language: BTreeMap<String, Scores> = BTreeMap::new();
    let started = std::time::Instant::now();
    for row in &rows {
        let (speaker, text) = speaker_prefix(&row.text);
        let c = engine.classify(Utterance {
            text: text.to_string(),
            speaker,
            previous: row.previous.clone(),
        })?;
        let scores = by_language.entry(row.language.clone()).or_default();
        scores
            .intent
            .pairs
            .push((row.intent.clone(), c.intent.clone()));
        let predicted = c.objection.clone().unwrap_or_else(|| NONE.to_string());
        scores
            .objection
            .pairs
            .push((row.objection.clone(), predicted));
    }
    let seconds = started.elapsed().as_secs_f64();
    let mut ok = true;
    let mut report = serde_json::Map::new();
    for (language, scores) in &by_language {
        let (doc, passed) = language_report(language, scores, floors, json);
        ok &= passed;
        report.insert(language.clone(), doc);
    }
    if json {
        println!("{}", serde_json::Value::Object(report));
    } else {
        println!(
            "{} lines in {seconds:.1} s; lexicon {}",
            rows.len(),
            engine.lexicon_version()
        );
    }
    Ok(ok)
}

fn language_report(
    language: &str,
    scores: &Scores,
    floors: &Floors,
    json: bool,
) -> (serde_json::Value, bool) {
    let accuracy = scores.intent.accuracy();
    let macro_f1 = scores.objection.macro_f1(NONE);
    let mut passed = true;
    let mut verdicts = Vec::new();
    if let Some(floor) = floors.intent_accuracy.filter(|f| accuracy < *f) {
        verdicts.push(format!("intent accuracy {accuracy:.3} is below {floor}"));
        passed = false;
    }
    if let Some(floor) = floors.objection_macro_f1.filter(|f| macro_f1 < *f) {
        verdicts.push(format!("objection macro-F1 {macro_f1:.3} is below {floor}"));
        passed = false;
    }
    if !json {
        print_language(language, scores, accuracy, macro_f1);
        verdicts
            .iter()
            .for_each(|v| println!("FAIL [{language}] {v}"));
    }
    let doc = serde_json::json!({
        "lines": scores.intent.pairs.len(),
        "intent_accuracy": accuracy,
        "intent_macro_f1": scores.intent.macro_f1(""),
        "objection_accuracy": scores.objection.accuracy(),
        "objection_macro_f1": macro_f1,
        "passed": passed,
    });
    (doc, passed)
}

fn print_language(language: &str, scores: &Scores, accuracy: f64, macro_f1: f64) {
    println!("== {language}: {} lines", scores.intent.pairs.len());
    println!(
        "intent accuracy {accuracy:.3}, macro-F1 {:.3}",
        scores.intent.macro_f1("")
    );
    print_prf("intent", &scores.intent, "");
    print_confusion(&scores.intent);
    println!(
        "objection accuracy {:.3} (with '-' for none), macro-F1 over types {macro_f1:.3}",
        scores.objection.accuracy()
    );
    print_prf("objection", &scores.objection, NONE);
    print_confusion(&scores.objection);
}

fn print_prf(what: &str, tally: &Tally, skip: &str) {
    println!("  {what:<22} {:>6} {:>6} {:>6} {:>5}", "P", "R", "F1", "n");
    for label in tally.gold_labels(skip) {
        let (p, r, f, n) = tally.prf(&label);
        println!("  {label:<22} {p:>6.3} {r:>6.3} {f:>6.3} {n:>5}");
    }
}

/// Rows are gold labels, columns predicted ones, by the first four letters of each label.
fn print_confusion(tally: &Tally) {
    let mut labels: BTreeSet<String> = tally.gold_labels("");
    labels.extend(tally.pairs.iter().map(|(_, p)| p.clone()));
    let short = |l: &str| l.chars().take(4).collect::<String>();
    let header: String = labels.iter().map(|l| format!("{:>5}", short(l))).collect();
    println!(
        "  confusion (rows gold, columns predicted)\n  {:<22}{header}",
        ""
    );
    for gold in &labels {
        let cells: String = labels
            .iter()
            .map(|p| {
                let n = tally
                    .pairs
                    .iter()
                    .filter(|(g, q)| g == gold && q == p)
                    .count();
                format!("{n:>5}")
            })
            .collect();
        println!("  {gold:<22}{cells}");
    }
}
