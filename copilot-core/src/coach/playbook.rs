//! The coaching playbook: winning scripts, guiding questions, compliance items, the sentiment
//! examples and the coach's thresholds.
//!
//! Sales ops own this content as they own the lexicon, so it follows the lexicon's rules and
//! reuses its loading helpers: a versioned TOML document (`fixtures/playbook/README.md`), the
//! default compiled in, a file checked whole before use (one bad line refuses the file with that
//! line and the reason, and the playbook in force stays), and an atomic swap in [`super::Coach`].
//! Nothing in the code names a scenario or an item; the default playbook does.

use crate::error::{Error, Result};
use crate::nlu::lexicon::{check_format, line_of, read_text, toml_refusal, Names};
use crate::nlu::text;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::{Arc, Mutex};
use toml::Spanned;

/// The playbook format this build reads.
pub(crate) const FORMAT: i64 = 1;

/// The default playbook, compiled in.
pub(crate) const DEFAULT: &str = include_str!("default_playbook.toml");

/// How suggestions are ranked and how many are shown.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SuggestSettings {
    pub top: usize,
    pub similarity_weight: f32,
    pub win_rate_weight: f32,
}

/// The circuit breaker's thresholds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BreakerSettings {
    /// Deletions in a row that freeze a scenario.
    pub deletions_to_freeze: u32,
    /// Hours from freezing to half-open.
    pub cool_down_hours: f64,
}

/// The compliance streak rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StreakSettings {
    /// Calls in a row without an item that raise one coaching task.
    pub misses_for_task: u32,
    /// Hours from the last call's end to the task's due time.
    pub task_due_hours: f64,
}

/// What the call score counts and how much each part weighs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScoreSettings {
    /// Intents that stand for a key commitment of the call.
    pub key_intents: Vec<String>,
    pub weights: Weights,
}

/// The weights of the call score's parts; they need not sum to one.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Weights {
    pub required: f32,
    pub commitments: f32,
    pub phrases: f32,
    pub sentiment: f32,
}

/// How the sentiment curve is read.
#[derive(Debug, Clone)]
pub(crate) struct SentimentSettings {
    /// Softmax temperature over the classes' similarities.
    pub temperature: f32,
    /// Utterances in the moving average that smooths the curve.
    pub smoothing: usize,
    /// The rise plus fall around a point that makes it a turning point.
    pub turning_point_swing: f32,
    /// A fall of the smoothed curve from its peak that raises a live alert.
    pub alert_drop: f32,
}

/// One sentiment class and the sentences that teach it.
#[derive(Debug, Clone)]
pub(crate) struct SentimentClass {
    pub id: String,
    /// Where the class sits on the curve, from -1 to 1.
    pub value: f32,
    pub examples: Vec<String>,
}

/// A reply that won past deals.
#[derive(Debug, Clone)]
pub(crate) struct Script {
    pub id: String,
    /// An objection type or intent id of the lexicon.
    pub scenario: String,
    pub language: String,
    /// The customer's situation the reply answers; what the customer's words are compared with.
    pub situation: String,
    pub reply: String,
    pub used: u32,
    pub won: u32,
}

impl Script {
    /// The Laplace-smoothed share of deals won when the script was used: (won + 1) / (used + 2).
    pub(crate) fn win_rate(&self) -> f32 {
        (self.won as f32 + 1.0) / (self.used as f32 + 2.0)
    }
}

/// Which calls a compliance item applies to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Applies {
    All,
    /// Calls in which one of these catalogue products is mentioned.
    Products(Vec<String>),
}

/// A statement the rep must make.
#[derive(Debug, Clone)]
pub(crate) struct ComplianceItem {
    pub id: String,
    pub description: Names,
    pub applies: Applies,
    /// Satisfied by any registration number of the call's catalogue, spoken in any form.
    pub catalogue_numbers: bool,
    /// Satisfied by any of these, matched on folded text.
    pub patterns: Vec<regex::Regex>,
    /// An alert is raised when the call passes this second without the item.
    pub due_by_s: Option<f64>,
}

/// The embeddings a playbook needs, computed once per playbook and encoder.
#[derive(Debug)]
pub(crate) struct PlaybookIndex {
    /// One per script, in the playbook's order: the situation's embedding.
    pub situations: Vec<Vec<f32>>,
    /// One per sentiment class: the normalised mean of its examples' embeddings.
    pub prototypes: Vec<Vec<f32>>,
}

/// A checked playbook. Immutable once built; a new version is a new value.
#[derive(Debug)]
pub(crate) struct Playbook {
    pub version: String,
    pub suggest: SuggestSettings,
    pub breaker: BreakerSettings,
    pub streaks: StreakSettings,
    pub score: ScoreSettings,
    pub sentiment: SentimentSettings,
    pub classes: Vec<SentimentClass>,
    pub scripts: Vec<Script>,
    /// Guiding questions by (scenario, language).
    pub guides: HashMap<(String, String), Vec<String>>,
    pub compliance: Vec<ComplianceItem>,
    /// The embeddings, computed on first use.
    pub(crate) index: Mutex<Option<Arc<PlaybookIndex>>>,
}

impl Playbook {
    /// The playbook compiled into the library.
    pub(crate) fn default_playbook() -> Result<Playbook> {
        Playbook::parse(DEFAULT)
    }

    /// Reads and checks a playbook file; see [`Playbook::parse`].
    pub(crate) fn from_file(path: &std::path::Path) -> Result<Playbook> {
        let source = read_text(path).map_err(|(line, reason)| refuse(line, &reason))?;
        Playbook::parse(&source)
    }

    /// Checks a whole playbook document and compiles it. Any problem refuses the document with
    /// the line it is on and the reason.
    pub(crate) fn parse(source: &str) -> Result<Playbook> {
        check_format(source, FORMAT).map_err(|(line, reason)| refuse(line, &reason))?;
        let form: FileForm = toml::from_str(source).map_err(|err| {
            let (line, reason) = toml_refusal(source, &err);
            refuse(line, &reason)
        })?;
        Builder { source }.build(form)
    }

    /// The guiding questions of a scenario in a language (empty when there are none).
    pub(crate) fn questions(&self, scenario: &str, language: &str) -> &[String] {
        self.guides
            .get(&(scenario.to_string(), language.to_string()))
            .map_or(&[], Vec::as_slice)
    }

    /// True when the playbook has scripts or questions for this scenario.
    pub(crate) fn coaches(&self, scenario: &str) -> bool {
        self.scripts.iter().any(|s| s.scenario == scenario)
            || self.guides.keys().any(|(s, _)| s == scenario)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileForm {
    #[allow(dead_code)]
    format: i64,
    version: Spanned<String>,
    #[allow(dead_code)]
    description: Option<String>,
    suggest: SuggestSettings,
    breaker: BreakerSettings,
    streaks: StreakSettings,
    score: ScoreSettings,
    sentiment: SentimentForm,
    #[serde(default)]
    script: Vec<ScriptForm>,
    #[serde(default)]
    guide: Vec<GuideForm>,
    #[serde(default)]
    compliance: Vec<ComplianceForm>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SentimentForm {
    temperature: f32,
    smoothing: usize,
    turning_point_swing: f32,
    alert_drop: f32,
    class: Vec<ClassForm>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassForm {
    id: Spanned<String>,
    value: Spanned<f32>,
    examples: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScriptForm {
    id: Spanned<String>,
    scenario: Spanned<String>,
    language: Spanned<String>,
    situation: Spanned<String>,
    reply: Spanned<String>,
    used: u32,
    won: Spanned<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GuideForm {
    scenario: Spanned<String>,
    language: Spanned<String>,
    questions: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ComplianceForm {
    id: Spanned<String>,
    description: Names,
    applies: Spanned<String>,
    #[serde(default)]
    products: Vec<String>,
    #[serde(default)]
    catalogue_numbers: bool,
    #[serde(default)]
    patterns: Vec<Spanned<String>>,
    due_by_s: Option<f64>,
}

/// Turns the parsed form into a [`Playbook`], checking what serde cannot.
struct Builder<'a> {
    source: &'a str,
}

impl Builder<'_> {
    fn build(self, form: FileForm) -> Result<Playbook> {
        let version = self.text(&form.version, "the version is empty")?;
        self.check_settings(&form)?;
        let classes = self.classes(&form.sentiment.class)?;
        let scripts = self.scripts(&form.script)?;
        let guides = self.guides(&form.guide)?;
        self.check_guided(&form.script, &guides)?;
        let compliance = self.compliance(&form.compliance)?;
        tracing::debug!(%version, scripts = scripts.len(), "playbook checked");
        let s = form.sentiment;
        Ok(Playbook {
            version,
            suggest: form.suggest,
            breaker: form.breaker,
            streaks: form.streaks,
            score: form.score,
            sentiment: SentimentSettings {
                temperature: s.temperature,
                smoothing: s.smoothing,
                turning_point_swing: s.turning_point_swing,
                alert_drop: s.alert_drop,
            },
            classes,
            scripts,
            guides,
            compliance,
            index: Mutex::new(None),
        })
    }

    fn line(&self, span: Range<usize>) -> usize {
        line_of(self.source, span.start)
    }

    /// The line of a table header such as `[breaker]`, for settings serde reads without spans.
    fn header(&self, name: &str) -> usize {
        let header = format!("[{name}]");
        self.source
            .lines()
            .position(|l| l.trim() == header)
            .map_or(0, |l| l + 1)
    }

    fn text(&self, value: &Spanned<String>, reason: &str) -> Result<String> {
        let text = value.get_ref().trim();
        if text.is_empty() {
            return Err(refuse(self.line(value.span()), reason));
        }
        Ok(text.to_string())
    }

    fn id(&self, value: &Spanned<String>, what: &str) -> Result<String> {
        let id = self.text(value, &format!("a {what} is empty"))?;
        let ok = id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if !ok {
            let reason = format!("the {what} '{id}' is not lower-case ASCII, digits, '_' or '-'");
            return Err(refuse(self.line(value.span()), &reason));
        }
        Ok(id)
    }

    fn language(&self, value: &Spanned<String>) -> Result<String> {
        let code = value.get_ref();
        let ok = (2..=3).contains(&code.len()) && code.chars().all(|c| c.is_ascii_lowercase());
        if !ok {
            let reason = format!("the language '{code}' is not a code such as 'zh' or 'en'");
            return Err(refuse(self.line(value.span()), &reason));
        }
        Ok(code.clone())
    }

    fn check_settings(&self, form: &FileForm) -> Result<()> {
        let s = &form.suggest;
        let weights = [s.similarity_weight, s.win_rate_weight];
        if s.top == 0 || weights.iter().any(|w| !(0.0..=1.0).contains(w)) {
            let reason = "suggest: top >= 1 and weights in [0, 1]";
            return Err(refuse(self.header("suggest"), reason));
        }
        let b = &form.breaker;
        if b.deletions_to_freeze == 0 || !(b.cool_down_hours > 0.0 && b.cool_down_hours < 1e5) {
            let reason = "breaker: deletions_to_freeze >= 1 and cool_down_hours in (0, 100000)";
            return Err(refuse(self.header("breaker"), reason));
        }
        let t = &form.streaks;
        if t.misses_for_task == 0 || !(t.task_due_hours >= 0.0 && t.task_due_hours < 1e5) {
            let reason = "streaks: misses_for_task >= 1 and task_due_hours in [0, 100000)";
            return Err(refuse(self.header("streaks"), reason));
        }
        let w = &form.score.weights;
        let parts = [w.required, w.commitments, w.phrases, w.sentiment];
        if parts.iter().any(|p| p.is_nan() || *p < 0.0) || parts.iter().sum::<f32>() <= 0.0 {
            let reason = "score: weights >= 0 and not all zero";
            return Err(refuse(self.header("score"), reason));
        }
        let m = &form.sentiment;
        let ok = m.temperature > 0.0
            && m.smoothing >= 1
            && m.turning_point_swing > 0.0
            && m.alert_drop > 0.0;
        if !ok {
            let reason = "sentiment: temperature, smoothing, turning_point_swing and \
                          alert_drop must be positive";
            return Err(refuse(self.header("sentiment"), reason));
        }
        Ok(())
    }

    fn classes(&self, forms: &[ClassForm]) -> Result<Vec<SentimentClass>> {
        if forms.len() < 2 {
            let reason = "sentiment needs at least two classes";
            return Err(refuse(self.header("sentiment"), reason));
        }
        let mut seen = HashSet::new();
        let mut out = Vec::with_capacity(forms.len());
        for form in forms {
            let id = self.id(&form.id, "sentiment class id")?;
            self.unique(&mut seen, &id, &form.id)?;
            let value = *form.value.get_ref();
            if !(-1.0..=1.0).contains(&value) {
                let reason = format!("the value {value} of class '{id}' is not in [-1, 1]");
                return Err(refuse(self.line(form.value.span()), &reason));
            }
            if form.examples.is_empty() {
                let reason = format!("the sentiment class '{id}' has no examples");
                return Err(refuse(self.line(form.id.span()), &reason));
            }
            let examples = form
                .examples
                .iter()
                .map(|e| self.text(e, "a sentiment example is empty"))
                .collect::<Result<Vec<_>>>()?;
            out.push(SentimentClass {
                id,
                value,
                examples,
            });
        }
        Ok(out)
    }

    fn unique(&self, seen: &mut HashSet<String>, id: &str, at: &Spanned<String>) -> Result<()> {
        if seen.insert(id.to_string()) {
            return Ok(());
        }
        let reason = format!("the id '{id}' is defined twice");
        Err(refuse(self.line(at.span()), &reason))
    }

    fn scripts(&self, forms: &[ScriptForm]) -> Result<Vec<Script>> {
        let mut seen = HashSet::new();
        let mut out = Vec::with_capacity(forms.len());
        for form in forms {
            let id = self.id(&form.id, "script id")?;
            self.unique(&mut seen, &id, &form.id)?;
            let won = *form.won.get_ref();
            if won > form.used {
                let reason = format!("script '{id}' won {won} times but was used {}", form.used);
                return Err(refuse(self.line(form.won.span()), &reason));
            }
            out.push(Script {
                scenario: self.id(&form.scenario, "scenario")?,
                language: self.language(&form.language)?,
                situation: self.text(&form.situation, "a script's situation is empty")?,
                reply: self.text(&form.reply, "a script's reply is empty")?,
                used: form.used,
                won,
                id,
            });
        }
        Ok(out)
    }

    fn guides(&self, forms: &[GuideForm]) -> Result<HashMap<(String, String), Vec<String>>> {
        let mut out: HashMap<(String, String), Vec<String>> = HashMap::new();
        for form in forms {
            let key = (
                self.id(&form.scenario, "scenario")?,
                self.language(&form.language)?,
            );
            if form.questions.is_empty() {
                let reason = format!("the guide for '{}' has no questions", key.0);
                return Err(refuse(self.line(form.scenario.span()), &reason));
            }
            if out.contains_key(&key) {
                let reason = format!("the guide for '{}' in '{}' is defined twice", key.0, key.1);
                return Err(refuse(self.line(form.scenario.span()), &reason));
            }
            let questions = form
                .questions
                .iter()
                .map(|q| self.text(q, "a guiding question is empty"))
                .collect::<Result<Vec<_>>>()?;
            out.insert(key, questions);
        }
        Ok(out)
    }

    /// Every scenario and language with scripts has guiding questions, so a frozen scenario
    /// always has something to show.
    fn check_guided(
        &self,
        scripts: &[ScriptForm],
        guides: &HashMap<(String, String), Vec<String>>,
    ) -> Result<()> {
        for form in scripts {
            let key = (
                form.scenario.get_ref().clone(),
                form.language.get_ref().clone(),
            );
            if !guides.contains_key(&key) {
                let reason = format!(
                    "scripts for '{}' in '{}' have no guiding questions for a frozen breaker",
                    key.0, key.1
                );
                return Err(refuse(self.line(form.scenario.span()), &reason));
            }
        }
        Ok(())
    }

    fn compliance(&self, forms: &[ComplianceForm]) -> Result<Vec<ComplianceItem>> {
        let mut seen = HashSet::new();
        let mut out = Vec::with_capacity(forms.len());
        for form in forms {
            let id = self.id(&form.id, "compliance id")?;
            self.unique(&mut seen, &id, &form.id)?;
            let line = self.line(form.id.span());
            let patterns = form
                .patterns
                .iter()
                .map(|p| self.pattern(p))
                .collect::<Result<Vec<_>>>()?;
            if patterns.is_empty() && !form.catalogue_numbers {
                let reason = format!("compliance item '{id}' has no patterns and no numbers");
                return Err(refuse(line, &reason));
            }
            if form.due_by_s.is_some_and(|d| d.is_nan() || d < 0.0) {
                let reason = format!("compliance item '{id}': due_by_s must be >= 0");
                return Err(refuse(line, &reason));
            }
            out.push(ComplianceItem {
                applies: self.applies(form, &id)?,
                description: form.description.clone(),
                catalogue_numbers: form.catalogue_numbers,
                patterns,
                due_by_s: form.due_by_s,
                id,
            });
        }
        Ok(out)
    }

    fn applies(&self, form: &ComplianceForm, id: &str) -> Result<Applies> {
        let line = self.line(form.applies.span());
        match (form.applies.get_ref().as_str(), form.products.is_empty()) {
            ("all", true) => Ok(Applies::All),
            ("products", false) => Ok(Applies::Products(form.products.clone())),
            ("all", false) => Err(refuse(
                line,
                &format!("compliance item '{id}' applies to all calls but lists products"),
            )),
            ("products", true) => Err(refuse(
                line,
                &format!("compliance item '{id}' applies to products but lists none"),
            )),
            (other, _) => Err(refuse(
                line,
                &format!("applies = '{other}' is neither 'all' nor 'products'"),
            )),
        }
    }

    fn pattern(&self, pattern: &Spanned<String>) -> Result<regex::Regex> {
        let source = pattern.get_ref();
        let line = self.line(pattern.span());
        let re = regex::RegexBuilder::new(source)
            .size_limit(1 << 20)
            .build()
            .map_err(|err| {
                let detail = err.to_string();
                let detail = detail.lines().last().unwrap_or("").trim().to_string();
                let reason = format!("the pattern '{source}' is not a valid regex: {detail}");
                refuse(line, &reason)
            })?;
        if re.is_match("") {
            let reason = format!("the pattern '{source}' matches empty text");
            return Err(refuse(line, &reason));
        }
        if text::fold(source).is_empty() {
            return Err(refuse(line, "a pattern is empty"));
        }
        Ok(re)
    }
}

fn refuse(line: usize, reason: &str) -> Error {
    Error::Playbook {
        line,
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(source: &str) -> (usize, String) {
        match Playbook::parse(source) {
            Err(Error::Playbook { line, reason }) => (line, reason),
            Err(other) => panic!("unexpected error {other}"),
            Ok(_) => panic!("a bad playbook was accepted"),
        }
    }

    /// The line (1-based) of the first line of the default playbook equal to `text`.
    fn line_with(source: &str, text: &str) -> usize {
        source.lines().position(|l| l == text).unwrap() + 1
    }

    #[test]
    fn default_playbook_covers_every_objection_type_in_both_languages() {
        let playbook = Playbook::default_playbook().unwrap();
        let lexicon = crate::nlu::lexicon::Lexicon::default_lexicon().unwrap();
        let objections = lexicon
            .labels
            .iter()
            .filter(|l| l.kind == crate::nlu::lexicon::Kind::Objection);
        for label in objections {
            for language in ["zh", "en"] {
                let count = playbook
                    .scripts
                    .iter()
                    .filter(|s| s.scenario == label.id && s.language == language)
                    .count();
                assert!(count >= 3, "{} {language}: {count} scripts", label.id);
                assert!(!playbook.questions(&label.id, language).is_empty());
            }
        }
        let ids: Vec<&str> = playbook.compliance.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(
            ids,
            ["registration_no", "recording_notice", "quote_validity"]
        );
    }

    #[test]
    fn win_rate_is_smoothed() {
        let mut playbook = Playbook::default_playbook().unwrap();
        let script = playbook.scripts.first_mut().unwrap();
        script.used = 0;
        script.won = 0;
        assert_eq!(script.win_rate(), 0.5);
        script.used = 8;
        script.won = 8;
        assert_eq!(script.win_rate(), 0.9);
    }

    #[test]
    fn every_kind_of_malformed_playbook_is_refused_with_its_line() {
        let d = DEFAULT;
        let cases: Vec<(String, usize, &str)> = vec![
            (
                d.replace("format = 1", "format = 7"),
                line_with(d, "format = 1"),
                "format 7",
            ),
            (d.replace("format = 1\n", ""), 1, "format"),
            ("format = 1\nversion = [".into(), 2, ""),
            (
                d.replace("version = \"2026.12-default.2\"", "version = \" \""),
                line_with(d, "version = \"2026.12-default.2\""),
                "version",
            ),
            (
                d.replace("top = 3", "top = 0"),
                line_with(d, "[suggest]"),
                "top",
            ),
            (
                d.replace("cool_down_hours = 24", "cool_down_hours = -1"),
                line_with(d, "[breaker]"),
                "cool_down",
            ),
            (
                d.replace("misses_for_task = 3", "misses_for_task = 0"),
                line_with(d, "[streaks]"),
                "misses",
            ),
            (
                d.replace("temperature = 0.05", "temperature = 0"),
                line_with(d, "[sentiment]"),
                "temperature",
            ),
            (
                d.replace("id = \"price_final-en-1\"", "id = \"price_too_high-en-1\""),
                line_with(d, "id = \"price_final-en-1\""),
                "twice",
            ),
            (
                d.replace("id = \"budget-en-1\"", "id = \"Budget En\""),
                line_with(d, "id = \"budget-en-1\""),
                "lower-case",
            ),
            (
                d.replace("used = 46\nwon = 27", "used = 20\nwon = 27"),
                line_with(d, "won = 27"),
                "won 27",
            ),
            (
                d.replace("used = 46", "used = -1"),
                line_with(d, "used = 46"),
                "",
            ),
            (
                d.replace(
                    "language = \"en\"\nsituation = \"the customer says the ultrasound",
                    "language = \"english\"\nsituation = \"the customer says the ultrasound",
                ),
                line_with(d, "id = \"price_too_high-en-1\"") + 2,
                "english",
            ),
            (
                d.replace("colour = 1", "")
                    .replace("[suggest]\n", "[suggest]\ncolour = 1\n"),
                line_with(d, "[suggest]") + 1,
                "colour",
            ),
            (
                d.replace("'(quote|quotation|offer) expires',", "'(quote|quotation',"),
                line_with(d, "    '(quote|quotation|offer) expires',"),
                "not a valid regex",
            ),
            (
                d.replace("'(quote|quotation|offer) expires',", "'(x)?',"),
                line_with(d, "    '(quote|quotation|offer) expires',"),
                "matches empty",
            ),
            (
                d.replace("catalogue_numbers = true", "catalogue_numbers = false"),
                line_with(d, "id = \"registration_no\""),
                "no patterns",
            ),
            (
                d.replace(
                    "applies = \"all\"\ndue_by_s",
                    "applies = \"products\"\ndue_by_s",
                ),
                line_with(d, "due_by_s = 60") - 1,
                "lists none",
            ),
            (
                d.replace(
                    "applies = \"all\"\ndue_by_s",
                    "applies = \"some\"\ndue_by_s",
                ),
                line_with(d, "due_by_s = 60") - 1,
                "neither",
            ),
            (
                d.replace(
                    "[[guide]]\nscenario = \"need\"\nlanguage = \"zh\"",
                    "[[guide]]\nscenario = \"need\"\nlanguage = \"ja\"",
                ),
                line_with(d, "id = \"need-zh-1\"") + 1,
                "no guiding questions",
            ),
            (
                d.replace(
                    "situation = \"客户说设备数量已经够了\"",
                    "situation = \"  \"",
                ),
                line_with(d, "situation = \"客户说设备数量已经够了\""),
                "situation is empty",
            ),
        ];
        for (source, line, needle) in cases {
            let (got_line, reason) = refused(&source);
            assert!(reason.contains(needle), "'{needle}' not in: {reason}");
            assert_eq!(got_line, line, "{reason}");
        }
    }

    #[test]
    fn a_file_that_is_not_utf8_or_missing_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, b"format = 1\nversion = \"\xff\"\n").unwrap();
        match Playbook::from_file(&path) {
            Err(Error::Playbook { line, reason }) => {
                assert_eq!(line, 2);
                assert!(reason.contains("UTF-8"));
            }
            _ => panic!("a non-UTF-8 playbook was accepted"),
        }
        let missing = Playbook::from_file(&dir.path().join("none.toml"));
        assert!(matches!(missing, Err(Error::Playbook { line: 0, .. })));
    }
}
