//! The sales-language lexicon: labels, the phrases and patterns that decide them outright, and
//! the examples the embedding layer learns from.
//!
//! Sales ops edit it every quarter and ship it as a file, so it is data with a documented,
//! versioned format (`fixtures/lexicon/README.md`), and a file is checked whole before it is
//! used: one bad line refuses the file with that line and the reason, and the lexicon in force
//! stays. Nothing in the code names a taxonomy id; the default lexicon compiled in here does.

use super::text::{self, CLAUSE};
use crate::error::{Error, Result};
use serde::Deserialize;
use std::collections::HashSet;
use std::ops::Range;
use std::sync::{Arc, Mutex};
use toml::Spanned;

/// The lexicon format this build reads.
pub(crate) const FORMAT: i64 = 1;

/// The default lexicon, compiled in.
pub(crate) const DEFAULT: &str = include_str!("default_lexicon.toml");

/// Whether a label is an intent or an objection type (which implies the objection intent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Kind {
    Intent,
    Objection,
}

/// How the embedding layer scores a label against an utterance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Method {
    /// The mean similarity of the label's `k` nearest examples.
    Nearest,
    /// The similarity to the label's prototype: the normalised mean of its examples.
    Prototype,
}

/// The embedding layer's settings, from the lexicon's `[classifier]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Settings {
    pub method: Method,
    #[serde(default = "default_k")]
    pub k: usize,
    /// Below this cosine similarity the utterance is the fallback intent.
    pub min_similarity: f32,
    /// The softmax temperature that turns label scores into a confidence.
    pub temperature: f32,
    /// The confidence reported for a phrase, pattern or follow-up hit.
    pub hit_confidence: f32,
}

fn default_k() -> usize {
    3
}

#[derive(Deserialize)]
struct Probe {
    format: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileForm {
    #[allow(dead_code)]
    format: i64,
    version: Spanned<String>,
    #[allow(dead_code)]
    description: Option<String>,
    objection_intent: Spanned<String>,
    fallback_intent: Spanned<String>,
    classifier: Settings,
    negation: NegationForm,
    label: Vec<LabelForm>,
    #[serde(default)]
    follow_up: Vec<FollowUpForm>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NegationForm {
    cues: Vec<String>,
    window: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LabelForm {
    id: Spanned<String>,
    kind: Kind,
    name: Names,
    #[serde(default)]
    phrases: Vec<Spanned<String>>,
    #[serde(default)]
    patterns: Vec<Spanned<String>>,
    #[serde(default)]
    examples: Vec<Spanned<String>>,
}

/// A label's display names.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // Display names reach the apps once labels are listed on the Engine.
pub(crate) struct Names {
    pub en: String,
    pub zh: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FollowUpForm {
    after: Vec<Spanned<String>>,
    #[serde(default)]
    skip: Vec<String>,
    replies: Vec<Spanned<String>>,
    label: Spanned<String>,
}

/// One label of the lexicon.
#[derive(Debug, Clone)]
pub(crate) struct Label {
    pub id: String,
    pub kind: Kind,
    #[allow(dead_code)]
    pub names: Names,
}

/// A phrase or pattern that decides a label outright.
#[derive(Debug)]
struct Trigger {
    label: usize,
    /// As sales ops wrote it; this is the evidence.
    source: String,
    matcher: Matcher,
}

#[derive(Debug)]
enum Matcher {
    Phrase(String),
    Pattern(regex::Regex),
}

/// An example sentence that teaches the embedding layer one label.
#[derive(Debug, Clone)]
pub(crate) struct Example {
    pub label: usize,
    pub text: String,
}

/// "A short reply after an utterance with one of these labels means this label."
#[derive(Debug)]
struct FollowUp {
    after: HashSet<usize>,
    /// Filler words ("um", "嗯") skipped before the reply is compared.
    skip: Vec<String>,
    replies: Vec<String>,
    label: usize,
}

/// Which rule decided a hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HitKind {
    Phrase,
    Pattern,
    FollowUp,
}

/// A label decided by the lexicon alone, with the rule's text as evidence.
#[derive(Debug, Clone)]
pub(crate) struct Hit {
    pub label: usize,
    pub kind: HitKind,
    pub evidence: String,
}

/// What the lexicon finds in one folded utterance.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    /// The best hit that no negation cue cancels.
    pub hit: Option<Hit>,
    /// Labels whose phrases matched under a negation ("price is not the problem").
    pub negated: Vec<usize>,
}

/// A checked, compiled lexicon. Immutable once built; a new version is a new value.
#[derive(Debug)]
pub(crate) struct Lexicon {
    pub version: String,
    pub labels: Vec<Label>,
    pub settings: Settings,
    pub examples: Vec<Example>,
    pub objection_intent: usize,
    pub fallback_intent: usize,
    triggers: Vec<Trigger>,
    follow_ups: Vec<FollowUp>,
    negation_cues: Vec<String>,
    negation_window: usize,
    /// The example embeddings, computed on first use by the embedding layer.
    pub(crate) index: Mutex<Option<Arc<super::classify::ExampleIndex>>>,
}

impl Lexicon {
    /// The lexicon compiled into the library.
    pub(crate) fn default_lexicon() -> Result<Lexicon> {
        Lexicon::parse(DEFAULT)
    }

    /// Reads and checks a lexicon file; see [`Lexicon::parse`].
    pub(crate) fn from_file(path: &std::path::Path) -> Result<Lexicon> {
        let source = read_text(path).map_err(|(line, reason)| refuse(line, &reason))?;
        Lexicon::parse(&source)
    }

    /// Checks a whole lexicon document and compiles it. Any problem refuses the document with
    /// the line it is on and the reason.
    pub(crate) fn parse(source: &str) -> Result<Lexicon> {
        check_format(source, FORMAT).map_err(|(line, reason)| refuse(line, &reason))?;
        let form: FileForm = toml::from_str(source).map_err(|err| refuse_toml(source, &err))?;
        Builder::new(source).build(form)
    }

    /// The label's id.
    pub(crate) fn id(&self, label: usize) -> &str {
        self.labels.get(label).map_or("", |l| l.id.as_str())
    }

    /// The intent and objection type a label stands for.
    pub(crate) fn intent_of(&self, label: usize) -> (String, Option<String>) {
        match self.labels.get(label) {
            Some(l) if l.kind == Kind::Objection => {
                (self.id(self.objection_intent).into(), Some(l.id.clone()))
            }
            Some(l) => (l.id.clone(), None),
            None => (self.id(self.fallback_intent).into(), None),
        }
    }

    /// Looks for phrases and patterns in a folded utterance. The longest un-negated match wins.
    pub(crate) fn scan(&self, folded: &str) -> Scan {
        let mut scan = Scan::default();
        let mut best: Option<(usize, &Trigger)> = None;
        for trigger in &self.triggers {
            for span in trigger.matcher.spans(folded) {
                if self.negated(folded, span.start) {
                    scan.negated.push(trigger.label);
                    continue;
                }
                let len = span.len();
                if best.is_none_or(|(l, _)| len > l) {
                    best = Some((len, trigger));
                }
            }
        }
        scan.hit = best.map(|(_, t)| Hit {
            label: t.label,
            kind: t.matcher.kind(),
            evidence: t.source.clone(),
        });
        scan
    }

    /// True when `folded` is one of the short replies that a follow-up rule reads in the light
    /// of the previous utterance (so only then is the previous utterance worth classifying).
    pub(crate) fn wants_previous(&self, folded: &str) -> bool {
        self.follow_ups.iter().any(|f| f.matches_reply(folded))
    }

    /// The follow-up rule that turns this reply, after a previous utterance with `previous`
    /// label, into a label.
    pub(crate) fn follow_up(&self, folded: &str, previous: usize) -> Option<Hit> {
        let rule = self
            .follow_ups
            .iter()
            .find(|f| f.after.contains(&previous) && f.matches_reply(folded))?;
        Some(Hit {
            label: rule.label,
            kind: HitKind::FollowUp,
            evidence: format!(
                "'{}' after {}",
                rule.without_fillers(folded),
                self.id(previous)
            ),
        })
    }

    /// True when a negation cue occurs among the last `window` units (Latin words or Chinese
    /// characters) before `start`, in the same clause.
    fn negated(&self, folded: &str, start: usize) -> bool {
        let before = folded.get(..start).unwrap_or("");
        let clause = before.rsplit(CLAUSE).next().unwrap_or("");
        let tail = last_units(clause, self.negation_window);
        self.negation_cues
            .iter()
            .any(|cue| !text::find_all(&tail, cue).is_empty())
    }
}

/// The last `n` units of folded text, where a unit is a Latin word or one Chinese character,
/// written back in folded form.
fn last_units(clause: &str, n: usize) -> String {
    let mut units: Vec<String> = Vec::new();
    let mut word = String::new();
    for c in clause.chars() {
        if text::is_word_char(c) {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            units.push(std::mem::take(&mut word));
        }
        if text::is_han(c) {
            units.push(c.to_string());
        }
    }
    if !word.is_empty() {
        units.push(word);
    }
    let from = units.len().saturating_sub(n);
    let mut out = String::new();
    for unit in units.iter().skip(from) {
        let latin = |u: &str| u.chars().next().is_some_and(text::is_word_char);
        if latin(unit) && out.chars().next_back().is_some_and(text::is_word_char) {
            out.push(' ');
        }
        out.push_str(unit);
    }
    out
}

impl Matcher {
    fn spans(&self, folded: &str) -> Vec<Range<usize>> {
        match self {
            Matcher::Phrase(p) => text::find_all(folded, p)
                .into_iter()
                .map(|at| at..at + p.len())
                .collect(),
            Matcher::Pattern(re) => re
                .find_iter(folded)
                .filter(|m| text::at_boundary(folded, m.start(), m.end()))
                .map(|m| m.range())
                .collect(),
        }
    }

    fn kind(&self) -> HitKind {
        match self {
            Matcher::Phrase(_) => HitKind::Phrase,
            Matcher::Pattern(_) => HitKind::Pattern,
        }
    }
}

impl FollowUp {
    fn matches_reply(&self, folded: &str) -> bool {
        let reply = self.without_fillers(folded);
        self.replies.iter().any(|r| r == reply)
    }

    /// The first clause of `folded` that is not only filler, with leading fillers removed.
    fn without_fillers<'t>(&self, folded: &'t str) -> &'t str {
        for clause in folded.split(CLAUSE) {
            let mut rest = clause.trim();
            while let Some(filler) = self
                .skip
                .iter()
                .find(|f| rest.starts_with(f.as_str()) && text::at_boundary(rest, 0, f.len()))
            {
                rest = rest.get(filler.len()..).unwrap_or("").trim_start();
            }
            if !rest.is_empty() {
                return rest;
            }
        }
        ""
    }
}

/// Turns the parsed form into a [`Lexicon`], checking what serde cannot.
struct Builder<'a> {
    source: &'a str,
    ids: Vec<String>,
}

impl<'a> Builder<'a> {
    fn new(source: &'a str) -> Self {
        Builder {
            source,
            ids: Vec::new(),
        }
    }

    fn build(mut self, form: FileForm) -> Result<Lexicon> {
        let version = self.nonempty(&form.version, "the version is empty")?;
        self.check_settings(&form.classifier)?;
        let labels = self.labels(&form.label)?;
        let objection_intent = self.intent_ref(&form.objection_intent, &labels)?;
        let fallback_intent = self.intent_ref(&form.fallback_intent, &labels)?;
        let mut triggers = Vec::new();
        let mut examples = Vec::new();
        for (index, label) in form.label.iter().enumerate() {
            triggers.extend(self.triggers(index, label)?);
            examples.extend(self.examples(index, label)?);
        }
        let follow_ups = form
            .follow_up
            .iter()
            .map(|f| self.follow_up(f))
            .collect::<Result<Vec<_>>>()?;
        let negation_cues = form.negation.cues.iter().map(|c| text::fold(c)).collect();
        tracing::debug!(%version, labels = labels.len(), "lexicon checked");
        Ok(Lexicon {
            version,
            labels,
            settings: form.classifier,
            examples,
            objection_intent,
            fallback_intent,
            triggers,
            follow_ups,
            negation_cues,
            negation_window: form.negation.window,
            index: Mutex::new(None),
        })
    }

    fn line(&self, span: Range<usize>) -> usize {
        line_of(self.source, span.start)
    }

    fn nonempty(&self, value: &Spanned<String>, reason: &str) -> Result<String> {
        let text = value.get_ref().trim();
        if text.is_empty() {
            return Err(refuse(self.line(value.span()), reason));
        }
        Ok(text.to_string())
    }

    fn check_settings(&self, s: &Settings) -> Result<()> {
        let ok = s.k >= 1
            && (-1.0..=1.0).contains(&s.min_similarity)
            && s.temperature > 0.0
            && (0.0..=1.0).contains(&s.hit_confidence);
        if ok {
            return Ok(());
        }
        let line = self.source.lines().position(|l| l.trim() == "[classifier]");
        Err(refuse(
            line.map_or(0, |l| l + 1),
            "classifier settings out of range: k >= 1, min_similarity in [-1, 1], \
             temperature > 0, hit_confidence in [0, 1]",
        ))
    }

    fn labels(&mut self, forms: &[LabelForm]) -> Result<Vec<Label>> {
        let mut labels = Vec::with_capacity(forms.len());
        for form in forms {
            let id = self.nonempty(&form.id, "a label id is empty")?;
            let well_formed = id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !well_formed {
                let reason = format!("the label id '{id}' is not lower_snake_case ASCII");
                return Err(refuse(self.line(form.id.span()), &reason));
            }
            if self.ids.contains(&id) {
                let reason = format!("the label id '{id}' is defined twice");
                return Err(refuse(self.line(form.id.span()), &reason));
            }
            self.ids.push(id.clone());
            labels.push(Label {
                id,
                kind: form.kind,
                names: form.name.clone(),
            });
        }
        Ok(labels)
    }

    fn label_ref(&self, id: &Spanned<String>) -> Result<usize> {
        self.ids
            .iter()
            .position(|known| known == id.get_ref())
            .ok_or_else(|| {
                let reason = format!("the label id '{}' is not defined", id.get_ref());
                refuse(self.line(id.span()), &reason)
            })
    }

    fn intent_ref(&self, id: &Spanned<String>, labels: &[Label]) -> Result<usize> {
        let index = self.label_ref(id)?;
        match labels.get(index) {
            Some(label) if label.kind == Kind::Intent => Ok(index),
            _ => {
                let reason = format!("'{}' must be an intent label", id.get_ref());
                Err(refuse(self.line(id.span()), &reason))
            }
        }
    }

    fn triggers(&self, label: usize, form: &LabelForm) -> Result<Vec<Trigger>> {
        let mut out = Vec::new();
        for phrase in &form.phrases {
            let folded = text::fold(phrase.get_ref());
            if folded.is_empty() {
                return Err(refuse(self.line(phrase.span()), "a phrase is empty"));
            }
            out.push(Trigger {
                label,
                source: phrase.get_ref().clone(),
                matcher: Matcher::Phrase(folded),
            });
        }
        for pattern in &form.patterns {
            out.push(Trigger {
                label,
                source: pattern.get_ref().clone(),
                matcher: Matcher::Pattern(self.pattern(pattern)?),
            });
        }
        Ok(out)
    }

    fn pattern(&self, pattern: &Spanned<String>) -> Result<regex::Regex> {
        let source = pattern.get_ref();
        let re = regex::RegexBuilder::new(source)
            .size_limit(1 << 20)
            .build()
            .map_err(|err| {
                let first = err.to_string();
                let first = first.lines().last().unwrap_or("").trim().to_string();
                let reason = format!("the pattern '{source}' is not a valid regex: {first}");
                refuse(self.line(pattern.span()), &reason)
            })?;
        if re.is_match("") {
            let reason = format!("the pattern '{source}' matches empty text");
            return Err(refuse(self.line(pattern.span()), &reason));
        }
        Ok(re)
    }

    fn examples(&self, label: usize, form: &LabelForm) -> Result<Vec<Example>> {
        let mut out = Vec::with_capacity(form.examples.len());
        for example in &form.examples {
            let text = self.nonempty(example, "an example is empty")?;
            out.push(Example { label, text });
        }
        Ok(out)
    }

    fn follow_up(&self, form: &FollowUpForm) -> Result<FollowUp> {
        let label = self.label_ref(&form.label)?;
        let after = form
            .after
            .iter()
            .map(|id| self.label_ref(id))
            .collect::<Result<HashSet<_>>>()?;
        let mut replies = Vec::with_capacity(form.replies.len());
        for reply in &form.replies {
            let folded = text::fold(reply.get_ref());
            if folded.is_empty() {
                return Err(refuse(
                    self.line(reply.span()),
                    "a follow-up reply is empty",
                ));
            }
            replies.push(folded);
        }
        Ok(FollowUp {
            after,
            skip: form.skip.iter().map(|s| text::fold(s)).collect(),
            replies,
            label,
        })
    }
}

/// Reads a data file (a lexicon, a playbook) as text. An unreadable file is refused at line 0,
/// text that is not UTF-8 at the line where it stops being UTF-8.
pub(crate) fn read_text(path: &std::path::Path) -> std::result::Result<String, (usize, String)> {
    let bytes = std::fs::read(path)
        .map_err(|err| (0, format!("{} cannot be read: {err}", path.display())))?;
    String::from_utf8(bytes).map_err(|err| {
        let at = err.utf8_error().valid_up_to();
        let line = err.as_bytes().get(..at).map_or(0, line_count);
        (line, "the file is not UTF-8 text".to_string())
    })
}

/// Checks the top-level `format` key of a TOML data file against the one this build reads.
pub(crate) fn check_format(
    source: &str,
    expected: i64,
) -> std::result::Result<(), (usize, String)> {
    let probe: Probe = toml::from_str(source).map_err(|err| toml_refusal(source, &err))?;
    match probe.format {
        None => Err((1, "the top-level key 'format' is missing".into())),
        Some(f) if *f.get_ref() == expected => Ok(()),
        Some(f) => Err((
            line_of(source, f.span().start),
            format!(
                "format {} is not supported; this build reads format {expected}",
                f.get_ref()
            ),
        )),
    }
}

/// The line and message of a TOML parse error.
pub(crate) fn toml_refusal(source: &str, err: &toml::de::Error) -> (usize, String) {
    let line = err.span().map_or(0, |s| line_of(source, s.start));
    (line, err.message().to_string())
}

fn refuse_toml(source: &str, err: &toml::de::Error) -> Error {
    let (line, reason) = toml_refusal(source, err);
    refuse(line, &reason)
}

fn refuse(line: usize, reason: &str) -> Error {
    Error::Lexicon {
        line,
        reason: reason.to_string(),
    }
}

/// The 1-based line of a byte offset.
pub(crate) fn line_of(source: &str, offset: usize) -> usize {
    source.as_bytes().get(..offset).map_or(0, line_count)
}

fn line_count(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = r#"
format = 1
version = "test.1"
objection_intent = "objection"
fallback_intent = "other"

[classifier]
method = "nearest"
min_similarity = 0.8
temperature = 0.02
hit_confidence = 0.95

[negation]
cues = ["not", "不"]
window = 3

[[label]]
id = "objection"
kind = "intent"
name = { en = "Objection", zh = "异议" }

[[label]]
id = "other"
kind = "intent"
name = { en = "Other", zh = "其他" }

[[label]]
id = "closing"
kind = "intent"
name = { en = "Closing", zh = "促成" }
phrases = ["sign today"]

[[label]]
id = "price_too_high"
kind = "objection"
name = { en = "Price too high", zh = "价格太高" }
phrases = ["too expensive", "太贵"]
patterns = ['price (is|seems) (way )?too high']

[[label]]
id = "timing"
kind = "objection"
name = { en = "Timing", zh = "时机" }

[[follow_up]]
after = ["closing"]
skip = ["hmm"]
replies = ["no", "不行"]
label = "timing"
"#;

    fn refused_line(source: &str) -> (usize, String) {
        match Lexicon::parse(source) {
            Err(Error::Lexicon { line, reason }) => (line, reason),
            Err(other) => panic!("unexpected error {other}"),
            Ok(_) => panic!("a bad lexicon was accepted"),
        }
    }

    fn label_of(lexicon: &Lexicon, text: &str) -> Option<String> {
        let scan = lexicon.scan(&text::fold(text));
        scan.hit.map(|h| lexicon.id(h.label).to_string())
    }

    #[test]
    fn default_lexicon_is_valid() {
        let lexicon = Lexicon::default_lexicon().unwrap();
        assert!(lexicon.labels.len() >= 22);
        assert!(!lexicon.examples.is_empty());
    }

    #[test]
    fn phrases_match_across_case_width_and_script() {
        let lexicon = Lexicon::parse(SMALL).unwrap();
        let price = Some("price_too_high".to_string());
        assert_eq!(label_of(&lexicon, "That's TOO expensive!"), price);
        assert_eq!(label_of(&lexicon, "ＴＯＯ　ＥＸＰＥＮＳＩＶＥ"), price);
        assert_eq!(label_of(&lexicon, "這個真的太貴了"), price);
        assert_eq!(label_of(&lexicon, "the price seems way too high."), price);
        assert_eq!(label_of(&lexicon, "tooexpensive"), None);
    }

    #[test]
    fn negation_cancels_a_phrase_and_records_it() {
        let lexicon = Lexicon::parse(SMALL).unwrap();
        let scan = lexicon.scan(&text::fold("it's not too expensive"));
        assert!(scan.hit.is_none());
        assert_eq!(scan.negated.len(), 1);
        assert!(lexicon.scan(&text::fold("不太贵")).hit.is_none());
        let far = "not sure about the color, and it is too expensive";
        assert!(lexicon.scan(&text::fold(far)).hit.is_some());
    }

    #[test]
    fn follow_up_reads_a_reply_after_its_previous_label() {
        let lexicon = Lexicon::parse(SMALL).unwrap();
        let closing = lexicon
            .labels
            .iter()
            .position(|l| l.id == "closing")
            .unwrap();
        let hit = lexicon.follow_up(&text::fold("Hmm, no."), closing).unwrap();
        assert_eq!(lexicon.id(hit.label), "timing");
        assert!(lexicon
            .follow_up(&text::fold("不行，这周不行"), closing)
            .is_some());
        assert!(lexicon.follow_up(&text::fold("no idea"), closing).is_none());
        assert!(lexicon
            .follow_up(&text::fold("no"), lexicon.fallback_intent)
            .is_none());
    }

    #[test]
    fn wrong_version_is_refused_with_its_line() {
        let (line, reason) = refused_line(&SMALL.replace("format = 1", "format = 2"));
        assert_eq!(line, 2);
        assert!(reason.contains("format 2"), "{reason}");
        let (_, reason) = refused_line(&SMALL.replace("format = 1\n", ""));
        assert!(reason.contains("format"), "{reason}");
    }

    #[test]
    fn duplicate_id_is_refused_with_its_line() {
        let source = SMALL.replace("id = \"timing\"", "id = \"closing\"");
        let (line, reason) = refused_line(&source);
        let expected = source
            .lines()
            .position(|l| l == "id = \"closing\"")
            .unwrap();
        let second = source
            .lines()
            .enumerate()
            .filter(|(_, l)| *l == "id = \"closing\"")
            .nth(1)
            .unwrap()
            .0;
        assert!(second > expected);
        assert_eq!(line, second + 1);
        assert!(reason.contains("twice"), "{reason}");
    }

    #[test]
    fn unknown_ids_bad_patterns_and_missing_fields_are_refused() {
        let (line, reason) = refused_line(&SMALL.replace("label = \"timing\"", "label = \"nap\""));
        assert!(reason.contains("'nap' is not defined"), "{reason}");
        assert!(line > 1);
        let (_, reason) = refused_line(&SMALL.replace("'price (is|seems)", "'price (is|seems"));
        assert!(reason.contains("not a valid regex"), "{reason}");
        let (_, reason) = refused_line(&SMALL.replace(
            "kind = \"objection\"\nname = { en = \"Timing\", zh = \"时机\" }",
            "kind = \"objection\"",
        ));
        assert!(reason.contains("name"), "{reason}");
        let (_, reason) = refused_line(&SMALL.replace(
            "fallback_intent = \"other\"",
            "fallback_intent = \"timing\"",
        ));
        assert!(reason.contains("intent label"), "{reason}");
        let (_, reason) = refused_line(&SMALL.replace("kind = \"intent\"", "kind = \"mood\""));
        assert!(
            reason.contains("mood") || reason.contains("variant"),
            "{reason}"
        );
        let (_, reason) = refused_line(&SMALL.replace("temperature = 0.02", "temperature = 0.0"));
        assert!(reason.contains("temperature"), "{reason}");
        let (_, reason) =
            refused_line(&SMALL.replace("phrases = [\"sign today\"]", "phrases = [\"!!\"]"));
        assert!(reason.contains("empty"), "{reason}");
        let (_, reason) = refused_line("format = 1\nversion = [");
        assert!(!reason.is_empty());
        let (_, reason) = refused_line(&SMALL.replace("window = 3", "window = 3\ncolour = 1"));
        assert!(reason.contains("colour"), "{reason}");
    }

    #[test]
    fn a_file_that_is_not_utf8_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, b"format = 1\nversion = \"\xff\xfe\"\n").unwrap();
        match Lexicon::from_file(&path) {
            Err(Error::Lexicon { line, reason }) => {
                assert_eq!(line, 2);
                assert!(reason.contains("UTF-8"));
            }
            _ => panic!("a non-UTF-8 lexicon was accepted"),
        }
    }
}
