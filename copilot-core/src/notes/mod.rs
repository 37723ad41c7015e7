//! The structured call note: its schema, the extractors that fill it (dates, money, discounts,
//! products, competitors, commitments, next steps) and the builder that assembles it from a
//! call's classified utterances.
//!
//! This module uses `nlu` labels and the store's catalogue; it knows no audio. Building a note
//! cannot fail: every input, however odd (no utterances, no speakers, no customer, huge text),
//! gives a defined note whose `completeness` and `missing` say what it lacks. Chinese text the
//! note quotes is in Simplified characters; a session that wants Traditional converts the note.

mod catalogue;
mod commitments;
mod dates;
mod discounts;
mod money;
mod numerals;
mod objections;
mod summary;
#[cfg(test)]
mod tests;

pub(crate) use catalogue::{Catalogue, CatalogueProduct};

use crate::coach::{ComplianceResult, SentimentPoint};
use crate::error::{Error, Result};
use crate::nlu::text::to_simplified;
use crate::script::{convert, ChineseScript};
use crate::store::{CommitmentRecord, NoteRecord, ObjectionRecord};
use crate::{CallUtterance, Speaker};
use chrono::{DateTime, FixedOffset};
use std::borrow::Cow;

/// The intent and objection ids the design fixes (DESIGN.md, Taxonomy) and the note reads.
/// Every other label comes from the lexicon as data.
pub(crate) mod intents {
    pub const COMMITMENT: &str = "commitment";
    pub const NEXT_STEP: &str = "next_step";
    pub const PRICE_INQUIRY: &str = "price_inquiry";
    pub const PRODUCT_QUESTION: &str = "product_question";
    /// The objection type for a competitor named against the deal.
    pub const COMPETITOR_OBJECTION: &str = "competitor";
}

/// The longest quote the note keeps, in characters (longer ones end with `…`).
pub(crate) const QUOTE_CHARS: usize = 200;
/// The longest answer to an objection the note keeps, in characters.
pub(crate) const ANSWER_CHARS: usize = 160;
/// The longest summary, in characters.
pub(crate) const SUMMARY_CHARS: usize = 480;
/// The most characters of one utterance the extractors read. A spoken utterance is a sentence
/// or two; text beyond this (a pasted document, a broken transcript) is not read, which keeps a
/// huge input from costing seconds.
pub(crate) const READ_CHARS: usize = 4_000;
/// The most items one list of the note keeps (objections, prices...); later ones are dropped.
pub(crate) const MAX_ITEMS: usize = 100;

/// The customer a call was with.
#[derive(Debug, Clone, PartialEq, uniffi::Record, serde::Serialize)]
pub struct NoteCustomer {
    /// The customer's id in the store.
    pub id: String,
    /// The customer's name as the store has it, in the call's language where it has that
    /// name; empty when the cache does not hold the customer.
    pub name: String,
    /// False when the customer's id is not in the history cache (the note keeps the id given).
    pub in_cache: bool,
}

/// How much one speaker said.
#[derive(Debug, Clone, PartialEq, uniffi::Record, serde::Serialize)]
pub struct SpeakerTime {
    /// `rep`, `customer`, or null for speech nobody could attribute.
    pub speaker: Option<Speaker>,
    pub utterances: u32,
    /// Seconds of speech.
    pub talk_s: f64,
}

/// An objection raised in the call.
#[derive(Debug, Clone, PartialEq, uniffi::Record, serde::Serialize)]
pub struct NoteObjection {
    /// The objection type id from the lexicon, for example `price_too_high`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The words that raised it, shortened.
    pub quote: String,
    /// Seconds from the call's start.
    pub at_s: f64,
    /// Who raised it (a rep can take a final-price stance too).
    pub speaker: Option<Speaker>,
    /// True when the other side said something before the next objection.
    pub answered: bool,
    /// What the other side said, shortened; null when unanswered.
    pub answer: Option<String>,
}

/// A commitment or a next step: who does what, by when.
#[derive(Debug, Clone, PartialEq, uniffi::Record, serde::Serialize)]
pub struct NoteAction {
    /// Who said it: `rep`, `customer`, or null when unknown.
    pub who: Option<Speaker>,
    /// The words that said it, shortened.
    pub what: String,
    /// `YYYY-MM-DD`, resolved against the call's local date; null when no date was said or it
    /// could not be resolved ("sometime soon").
    pub due_date: Option<String>,
    /// Seconds from the call's start.
    pub at_s: f64,
}

/// A catalogue product named in the call.
#[derive(Debug, Clone, PartialEq, uniffi::Record, serde::Serialize)]
pub struct NoteProduct {
    /// The product's id in the catalogue.
    pub id: String,
    /// Its name in the call's language (the other language's name when that one is missing).
    pub name: String,
    /// Seconds from the call's start of the first mention.
    pub at_s: f64,
}

/// An amount of money said in the call.
#[derive(Debug, Clone, PartialEq, uniffi::Record, serde::Serialize)]
pub struct NotePrice {
    pub amount: f64,
    /// ISO 4217 code; null when the words named no currency and the session gave no default.
    pub currency: Option<String>,
    /// True when the currency is the session's default, not one the words named.
    pub currency_assumed: bool,
    /// The utterance that said it, shortened.
    pub quote: String,
    pub at_s: f64,
    pub speaker: Option<Speaker>,
}

/// A discount said in the call.
#[derive(Debug, Clone, PartialEq, uniffi::Record, serde::Serialize)]
pub struct NoteDiscount {
    /// The share taken off the price, in percent: "九折" is 10, "15% off" is 15.
    pub percent_off: f64,
    pub quote: String,
    pub at_s: f64,
    pub speaker: Option<Speaker>,
}

/// Where the call said contradictory things about one field, and which one the note kept.
#[derive(Debug, Clone, PartialEq, uniffi::Record, serde::Serialize)]
pub struct NoteConflict {
    /// The note's field, for example `follow_up_date`.
    pub field: String,
    /// The value the note kept.
    pub kept: String,
    /// The other values said, in the order said.
    pub dropped: Vec<String>,
    /// The rule that chose, for example "the date said last wins".
    pub rule: String,
}

/// The structured note of one call, written when the call ends.
#[derive(Debug, Clone, PartialEq, uniffi::Record, serde::Serialize)]
pub struct Note {
    pub call_id: String,
    /// Null when the call was not tied to a known customer.
    pub customer: Option<NoteCustomer>,
    pub rep_id: String,
    /// The call's start, RFC 3339 with the call's UTC offset.
    pub started_at: String,
    pub duration_s: f64,
    /// `zh`, `en`, ...
    pub language: String,
    /// Who spoke and how much, rep first.
    pub speakers: Vec<SpeakerTime>,
    /// The utterances that carry the call's decisions, quoted; empty for an empty call.
    pub summary: String,
    pub objections: Vec<NoteObjection>,
    pub commitments: Vec<NoteAction>,
    pub next_steps: Vec<NoteAction>,
    /// `YYYY-MM-DD`: the date of the last next step (or, with none, commitment) that has one.
    pub follow_up_date: Option<String>,
    pub products: Vec<NoteProduct>,
    /// Competitors named, as the catalogue names them.
    pub competitors: Vec<String>,
    pub prices: Vec<NotePrice>,
    /// How many prices have no currency (none named and no default given).
    pub amounts_without_currency: u32,
    pub discounts: Vec<NoteDiscount>,
    pub compliance: Vec<ComplianceResult>,
    /// The customer's sentiment over the call.
    pub sentiment: Vec<SentimentPoint>,
    /// The share of applicable fields that are filled, from 0 to 1.
    pub completeness: f32,
    /// The applicable fields left empty, by their names in this record.
    pub missing: Vec<String>,
    /// Contradictions the call contained and how the note resolved them.
    pub conflicts: Vec<NoteConflict>,
}

/// Everything the builder reads: the call's facts, its utterances and the session's context.
#[derive(Debug, Clone)]
pub(crate) struct NoteInput {
    pub call_id: String,
    pub customer: Option<NoteCustomer>,
    pub rep_id: String,
    /// The call's start with its UTC offset; relative dates resolve against its local date.
    pub started_at: DateTime<FixedOffset>,
    pub duration_s: f64,
    pub language: String,
    /// The final utterances, in call order.
    pub utterances: Vec<CallUtterance>,
    pub catalogue: Catalogue,
    pub compliance: Vec<ComplianceResult>,
    pub sentiment: Vec<SentimentPoint>,
    /// The currency of amounts whose words name none; see [`default_currency`].
    pub default_currency: Option<String>,
}

/// The currency a bare amount ("报价12.8万") is in, by the call's language: yuan for Chinese,
/// since this product sells to mainland Chinese buyers; none for English, whose dollars could
/// be any of several. A session may pass another default, or none to leave such amounts without
/// a currency (the note then counts them).
pub(crate) fn default_currency(language: &str) -> Option<&'static str> {
    language.starts_with("zh").then_some("CNY")
}

/// Reads an RFC 3339 instant with its offset, as a session's start is given.
pub(crate) fn parse_started_at(text: &str) -> Result<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(text.trim()).map_err(|err| {
        Error::InvalidInput(format!(
            "the call's start '{text}' is not an RFC 3339 instant with an offset ({err})"
        ))
    })
}

/// Builds the note of a finished call.
pub(crate) fn build_note(input: &NoteInput) -> Note {
    let utterances = in_call_order(&input.utterances);
    let today = input.started_at.date_naive();
    let objections = objections::find_objections(&utterances);
    let actions = commitments::find_actions(&utterances, today);
    let money = read_money(&utterances, input.default_currency.as_deref());
    let (products, competitors) = read_catalogue(&utterances, &input.catalogue, &input.language);
    let mut weighted = actions.positions.clone();
    weighted.extend(&money.positions);
    weighted.extend(&objections.answer_positions);
    let mut note = Note {
        call_id: input.call_id.clone(),
        customer: input.customer.clone(),
        rep_id: input.rep_id.clone(),
        started_at: input.started_at.to_rfc3339(),
        duration_s: call_duration(input.duration_s, &utterances),
        language: input.language.clone(),
        speakers: speaker_times(&utterances),
        summary: summary::summarize(&utterances, &weighted, &input.language),
        objections: objections.list,
        commitments: actions.commitments,
        next_steps: actions.next_steps,
        follow_up_date: actions.follow_up.map(|d| d.to_string()),
        products,
        competitors,
        amounts_without_currency: money.prices.iter().filter(|p| p.currency.is_none()).count()
            as u32,
        prices: money.prices,
        discounts: money.discounts,
        compliance: input.compliance.clone(),
        sentiment: input.sentiment.clone(),
        completeness: 0.0,
        missing: Vec::new(),
        conflicts: actions.conflict.into_iter().collect(),
    };
    let fields = fields(&note, &utterances);
    (note.completeness, note.missing) = completeness(&fields);
    tracing::debug!(call = %note.call_id, completeness = note.completeness, "note built");
    note
}

/// The utterances sorted by their position in the call, each cut to [`READ_CHARS`] characters;
/// copied only when out of order or too long.
fn in_call_order(utterances: &[CallUtterance]) -> Cow<'_, [CallUtterance]> {
    let too_long =
        |u: &CallUtterance| u.text.len() > READ_CHARS && u.text.chars().nth(READ_CHARS).is_some();
    if utterances.is_sorted_by_key(|u| u.seq) && !utterances.iter().any(too_long) {
        return Cow::Borrowed(utterances);
    }
    let mut sorted = utterances.to_vec();
    sorted.sort_by_key(|u| u.seq);
    for u in sorted.iter_mut().filter(|u| too_long(u)) {
        tracing::debug!(
            seq = u.seq,
            "an utterance is cut to the length the note reads"
        );
        u.text = u.text.chars().take(READ_CHARS).collect();
    }
    Cow::Owned(sorted)
}

/// The call's duration: as given, or the end of its last utterance when that is later.
pub(crate) fn call_duration(given: f64, utterances: &[CallUtterance]) -> f64 {
    let given = if given.is_finite() && given > 0.0 {
        given
    } else {
        0.0
    };
    utterances
        .iter()
        .map(|u| u.end_s)
        .filter(|e| e.is_finite())
        .fold(given, f64::max)
}

fn speaker_times(utterances: &[CallUtterance]) -> Vec<SpeakerTime> {
    [Some(Speaker::Rep), Some(Speaker::Customer), None]
        .into_iter()
        .filter_map(|speaker| {
            let theirs: Vec<&CallUtterance> =
                utterances.iter().filter(|u| u.speaker == speaker).collect();
            let talk_s: f64 = theirs
                .iter()
                .map(|u| u.end_s - u.start_s)
                .filter(|d| d.is_finite() && *d > 0.0)
                .sum();
            (!theirs.is_empty()).then(|| SpeakerTime {
                speaker,
                utterances: theirs.len() as u32,
                talk_s: (talk_s * 10.0).round() / 10.0,
            })
        })
        .collect()
}

/// Prices and discounts, each distinct one once in the order first said, with the positions
/// of the utterances that said them.
struct Money {
    prices: Vec<NotePrice>,
    discounts: Vec<NoteDiscount>,
    positions: Vec<usize>,
}

fn read_money(utterances: &[CallUtterance], default: Option<&str>) -> Money {
    let mut money = Money {
        prices: Vec::new(),
        discounts: Vec::new(),
        positions: Vec::new(),
    };
    for (i, u) in utterances.iter().enumerate() {
        // An answer to "what's the price?" is about money even when it names no money word.
        let asked = i > 0 && money::talks_money(&utterances[i - 1].text);
        let amounts = money::find_amounts(&u.text, asked);
        let discounts = discounts::find_discounts(&u.text);
        if amounts.is_empty() && discounts.is_empty() {
            continue;
        }
        money.positions.push(i);
        let said = quote(&u.text);
        for amount in amounts {
            let named = amount.currency.map(str::to_string);
            let currency = named.clone().or_else(|| default.map(str::to_string));
            let known = |p: &NotePrice| p.amount == amount.value && p.currency == currency;
            if money.prices.len() < MAX_ITEMS && !money.prices.iter().any(known) {
                money.prices.push(NotePrice {
                    amount: amount.value,
                    currency_assumed: named.is_none() && currency.is_some(),
                    currency,
                    quote: said.clone(),
                    at_s: u.start_s,
                    speaker: u.speaker,
                });
            }
        }
        for percent_off in discounts {
            let known = money.discounts.iter().any(|d| d.percent_off == percent_off);
            if money.discounts.len() < MAX_ITEMS && !known {
                money.discounts.push(NoteDiscount {
                    percent_off,
                    quote: said.clone(),
                    at_s: u.start_s,
                    speaker: u.speaker,
                });
            }
        }
    }
    money
}

/// The catalogue products and the competitors named, each once, in the order first named.
fn read_catalogue(
    utterances: &[CallUtterance],
    catalogue: &Catalogue,
    language: &str,
) -> (Vec<NoteProduct>, Vec<String>) {
    let matcher = catalogue.matcher();
    let mut products: Vec<NoteProduct> = Vec::new();
    let mut competitors: Vec<String> = Vec::new();
    for u in utterances {
        for named in matcher.find(&u.text) {
            match named {
                catalogue::Named::Product(i) => {
                    let Some(p) = catalogue.products.get(i) else {
                        continue;
                    };
                    if !products.iter().any(|known| known.id == p.id) {
                        products.push(NoteProduct {
                            id: p.id.clone(),
                            name: product_name(p, language),
                            at_s: u.start_s,
                        });
                    }
                }
                catalogue::Named::Competitor(i) => {
                    let Some(name) = catalogue.competitors.get(i) else {
                        continue;
                    };
                    if !competitors.contains(name) {
                        competitors.push(name.clone());
                    }
                }
            }
        }
    }
    (products, competitors)
}

fn product_name(p: &CatalogueProduct, language: &str) -> String {
    let (first, second) = if language.starts_with("zh") {
        (&p.name_zh, &p.name_en)
    } else {
        (&p.name_en, &p.name_zh)
    };
    first
        .clone()
        .or_else(|| second.clone())
        .unwrap_or_else(|| p.id.clone())
}

/// One field of the note for completeness: whether the call touched its subject, and whether
/// the note filled it.
struct Field {
    name: &'static str,
    applies: bool,
    filled: bool,
}

/// The fields completeness counts. Customer, time, duration, language, speakers, summary and
/// objections always apply; the others when the call touched their subject: a follow-up date
/// when a next step or commitment was made, due dates when commitments were, prices when money
/// was talked about, discounts when a discount was, products when one was asked about, competitors
/// when one was raised, sentiment when the customer spoke. Objections are filled by a list or
/// by the customer having spoken (an empty list then says none were raised); commitments are
/// filled when each has its due date. Compliance is the coach's verdict, not a gap of the note,
/// and is not counted.
fn fields(note: &Note, utterances: &[CallUtterance]) -> Vec<Field> {
    let intent_is = |id: &str| utterances.iter().any(|u| u.classification.intent == id);
    let customer_spoke = utterances
        .iter()
        .any(|u| u.speaker == Some(Speaker::Customer));
    let talked_money =
        intent_is(intents::PRICE_INQUIRY) || utterances.iter().any(|u| money::talks_money(&u.text));
    let talked_discount = utterances
        .iter()
        .any(|u| discounts::talks_discount(&u.text));
    let raised_competitor = utterances
        .iter()
        .any(|u| u.classification.objection.as_deref() == Some(intents::COMPETITOR_OBJECTION));
    let field = |name, applies: bool, filled: bool| Field {
        name,
        applies: applies || filled,
        filled,
    };
    vec![
        field("customer", true, note.customer.is_some()),
        field("started_at", true, !note.started_at.is_empty()),
        field("duration_s", true, note.duration_s > 0.0),
        field("language", true, !note.language.trim().is_empty()),
        field(
            "speakers",
            true,
            note.speakers.iter().any(|s| s.speaker.is_some()),
        ),
        field("summary", true, !note.summary.is_empty()),
        field(
            "objections",
            true,
            !note.objections.is_empty() || customer_spoke,
        ),
        field(
            "follow_up_date",
            !note.next_steps.is_empty() || !note.commitments.is_empty(),
            note.follow_up_date.is_some(),
        ),
        field(
            "commitments",
            !note.commitments.is_empty(),
            !note.commitments.is_empty() && note.commitments.iter().all(|c| c.due_date.is_some()),
        ),
        field("prices", talked_money, !note.prices.is_empty()),
        field("discounts", talked_discount, !note.discounts.is_empty()),
        field(
            "products",
            intent_is(intents::PRODUCT_QUESTION),
            !note.products.is_empty(),
        ),
        field(
            "competitors",
            raised_competitor,
            !note.competitors.is_empty(),
        ),
        field("sentiment", customer_spoke, !note.sentiment.is_empty()),
    ]
}

/// The share of applicable fields filled, rounded to two places, and the names of the rest.
fn completeness(fields: &[Field]) -> (f32, Vec<String>) {
    let applicable = fields.iter().filter(|f| f.applies).count();
    let filled = fields.iter().filter(|f| f.applies && f.filled).count();
    let missing = fields
        .iter()
        .filter(|f| f.applies && !f.filled)
        .map(|f| f.name.to_string())
        .collect();
    let share = if applicable == 0 {
        0.0
    } else {
        filled as f32 / applicable as f32
    };
    ((share * 100.0).round() / 100.0, missing)
}

/// Cuts text to `max` characters (ending it with `…` when cut), in Simplified characters.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    let trimmed = text.trim();
    let mut cut: String = trimmed.chars().take(max).collect();
    if trimmed.chars().nth(max).is_some() {
        cut.push('…');
    }
    to_simplified(&cut)
}

/// An utterance as the note quotes it.
pub(crate) fn quote(text: &str) -> String {
    shorten(text, QUOTE_CHARS)
}

fn speaker_id(speaker: Option<Speaker>) -> Option<String> {
    speaker.map(|s| match s {
        Speaker::Rep => "rep".to_string(),
        Speaker::Customer => "customer".to_string(),
    })
}

impl Note {
    /// The note with the Chinese of what it quotes in `script` (notes are built in Simplified
    /// characters). Names from the catalogue and the history cache stay as the cache has them.
    pub(crate) fn in_script(mut self, script: ChineseScript) -> Note {
        if script == ChineseScript::Simplified {
            return self;
        }
        let to = |text: &mut String| *text = convert(text, script);
        to(&mut self.summary);
        for o in &mut self.objections {
            to(&mut o.quote);
            if let Some(answer) = &mut o.answer {
                to(answer);
            }
        }
        for action in self.commitments.iter_mut().chain(&mut self.next_steps) {
            to(&mut action.what);
        }
        self.prices.iter_mut().for_each(|p| to(&mut p.quote));
        self.discounts.iter_mut().for_each(|d| to(&mut d.quote));
        self
    }

    /// The note as the store keeps it: the columns the customer card reads, and the whole note
    /// as the JSON body that leaves the device.
    pub(crate) fn to_record(&self) -> Result<NoteRecord> {
        let body = serde_json::to_value(self).map_err(|err| {
            Error::InvalidInput(format!("the note could not be written as JSON: {err}"))
        })?;
        Ok(NoteRecord {
            id: self.call_id.clone(),
            customer_id: self.customer.as_ref().map(|c| c.id.clone()),
            rep_id: self.rep_id.clone(),
            started_at: self.started_at.clone(),
            duration_s: self.duration_s,
            language: (!self.language.is_empty()).then(|| self.language.clone()),
            summary: (!self.summary.is_empty()).then(|| self.summary.clone()),
            follow_up_date: self.follow_up_date.clone(),
            objections: self
                .objections
                .iter()
                .map(|o| ObjectionRecord {
                    kind: o.kind.clone(),
                    quote: Some(o.quote.clone()),
                    at_s: Some(o.at_s),
                    answered: o.answered,
                })
                .collect(),
            commitments: self
                .commitments
                .iter()
                .map(|c| CommitmentRecord {
                    who: speaker_id(c.who),
                    what: c.what.clone(),
                    due_date: c.due_date.clone(),
                })
                .collect(),
            body,
        })
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Utterances and dates for the extractors' tests.
    use crate::nlu::{Classification, Evidence, EvidenceSource};
    use crate::{CallUtterance, Speaker};
    use chrono::NaiveDate;

    /// Wednesday 2 December 2026, the local date of the test calls.
    pub(crate) fn wednesday() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 2).unwrap_or_default()
    }

    /// Utterance `seq` of a call, five seconds apart, labelled as given (these tests are
    /// about the note, not the classifier).
    pub(crate) fn line(
        seq: u32,
        speaker: Option<Speaker>,
        text: &str,
        intent: &str,
        objection: Option<&str>,
    ) -> CallUtterance {
        CallUtterance {
            seq,
            start_s: f64::from(seq) * 5.0,
            end_s: f64::from(seq) * 5.0 + 4.0,
            speaker,
            text: text.to_string(),
            classification: Classification {
                text: text.to_string(),
                speaker,
                intent: intent.to_string(),
                objection: objection.map(str::to_string),
                confidence: 0.95,
                evidence: Evidence {
                    source: EvidenceSource::Phrase,
                    text: "given by the test".into(),
                    similarity: None,
                },
                lexicon_version: "test".into(),
            },
        }
    }
}
