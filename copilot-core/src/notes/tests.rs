//! The whole builder on short calls written for these tests, and on bad input.

use super::catalogue::testing::catalogue;
use super::testing::line;
use super::*;
use crate::nlu::encoder::Encoder;
use crate::nlu::{Nlu, Utterance};
use crate::Speaker::{Customer, Rep};
use std::sync::Arc;

/// Labels each line with the default lexicon. The encoder is not loaded: a line no lexicon
/// phrase or pattern decides gets the fallback intent, which these tests never rely on.
fn classified(lines: &[(Option<Speaker>, &str)]) -> Result<Vec<CallUtterance>> {
    let nlu = Nlu::new(None)?;
    let no_encoder =
        || -> Result<Arc<Encoder>> { Err(Error::Encoder("this test loads no encoder".into())) };
    let mut previous: Option<String> = None;
    let mut call = Vec::new();
    for (seq, (speaker, text)) in lines.iter().enumerate() {
        let utterance = Utterance {
            text: text.to_string(),
            speaker: *speaker,
            previous: previous.replace(text.to_string()),
        };
        let mut u = line(seq as u32, *speaker, text, "other", None);
        if let Ok(classification) = nlu.classify(&utterance, &no_encoder) {
            u.classification = classification;
        }
        call.push(u);
    }
    Ok(call)
}

fn input(language: &str, utterances: Vec<CallUtterance>) -> Result<NoteInput> {
    Ok(NoteInput {
        call_id: "call-1".into(),
        customer: Some(NoteCustomer {
            id: "C-001".into(),
            name: "仁和医院".into(),
            in_cache: true,
        }),
        rep_id: "rep-li".into(),
        started_at: parse_started_at("2026-12-02T10:00:00+08:00")?,
        duration_s: 60.0,
        language: language.into(),
        utterances,
        catalogue: catalogue(),
        compliance: Vec::new(),
        sentiment: vec![SentimentPoint {
            at_s: 10.0,
            score: -0.2,
            turning_point: false,
            seq: 1,
            smoothed: -0.2,
            label: "negative".into(),
        }],
        default_currency: None,
    })
}

#[test]
fn a_chinese_call_to_its_note() -> Result<()> {
    let call = classified(&[
        (Some(Rep), "您好，我是小李。"),
        (Some(Customer), "你们这个多参数病人监护仪报价多少？"),
        (Some(Rep), "这款报价是12.8万元一台。"),
        (Some(Customer), "太贵了，康泰的便宜不少。"),
        (Some(Rep), "我们可以给您打个九五折，而且三年保修。"),
        (Some(Rep), "好的，我明天把正式报价单发给您。"),
        (Some(Customer), "那我们下周五再约时间演示。"),
    ])?;
    let note = build_note(&input("zh", call)?);
    let kinds: Vec<&str> = note.objections.iter().map(|o| o.kind.as_str()).collect();
    assert!(kinds.contains(&"price_too_high"), "{kinds:?}");
    let price = note.objections.iter().find(|o| o.kind == "price_too_high");
    assert!(price.is_some_and(|o| o.answered && o.speaker == Some(Customer)));
    assert_eq!(note.follow_up_date.as_deref(), Some("2026-12-11"));
    assert_eq!(note.prices.len(), 1);
    assert_eq!(
        (note.prices[0].amount, note.prices[0].currency.as_deref()),
        (128_000.0, Some("CNY"))
    );
    assert_eq!(note.discounts.first().map(|d| d.percent_off), Some(5.0));
    assert_eq!(note.products.first().map(|p| p.id.as_str()), Some("PM-12"));
    assert_eq!(note.products[0].name, "多参数病人监护仪");
    assert_eq!(note.competitors, ["康泰医疗"]);
    assert_eq!(
        note.commitments.first().and_then(|c| c.due_date.as_deref()),
        Some("2026-12-03")
    );
    assert!(
        note.summary
            .contains("我明天把正式报价单发给您。客户：那我们下周五"),
        "{}",
        note.summary
    );
    assert!(note.summary.chars().count() <= SUMMARY_CHARS + 1);
    assert_eq!(note.started_at, "2026-12-02T10:00:00+08:00");
    assert_eq!(note.missing, Vec::<String>::new());
    assert_eq!(note.completeness, 1.0);
    Ok(())
}

#[test]
fn an_english_call_to_its_note() -> Result<()> {
    let call = classified(&[
        (Some(Rep), "Hi, thanks for taking the call."),
        (Some(Customer), "How much is the infusion pump?"),
        (
            Some(Rep),
            "It's $4,500 per unit, or 45,000 dollars for ten.",
        ),
        (Some(Customer), "That's too expensive for us."),
        (Some(Rep), "We can do 10% off if you order this quarter."),
        (Some(Customer), "Northbridge quoted us less."),
        (Some(Rep), "I'll send you the revised quote by Friday."),
        (Some(Customer), "OK, let's schedule a demo next Tuesday."),
    ])?;
    let note = build_note(&input("en", call)?);
    let price = note.objections.iter().find(|o| o.kind == "price_too_high");
    assert_eq!(
        price.map(|o| o.quote.as_str()),
        Some("That's too expensive for us.")
    );
    assert_eq!(
        price.and_then(|o| o.answer.as_deref()),
        Some("We can do 10% off if you order this quarter.")
    );
    let amounts: Vec<(f64, Option<&str>)> = note
        .prices
        .iter()
        .map(|p| (p.amount, p.currency.as_deref()))
        .collect();
    assert_eq!(amounts, [(4_500.0, Some("USD")), (45_000.0, Some("USD"))]);
    assert_eq!(note.discounts.first().map(|d| d.percent_off), Some(10.0));
    assert_eq!(
        note.products.first().map(|p| p.name.as_str()),
        Some("Volumetric infusion pump")
    );
    assert_eq!(note.competitors, ["Northbridge Medical"]);
    assert_eq!(
        note.commitments.first().and_then(|c| c.due_date.as_deref()),
        Some("2026-12-04")
    );
    assert_eq!(note.follow_up_date.as_deref(), Some("2026-12-08"));
    assert!(
        note.summary.starts_with("Rep: It's $4,500"),
        "{}",
        note.summary
    );
    assert!(
        note.completeness >= 0.9,
        "{} {:?}",
        note.completeness,
        note.missing
    );
    Ok(())
}

#[test]
fn an_empty_call_gives_a_defined_note() -> Result<()> {
    let mut empty = input("zh", Vec::new())?;
    empty.customer = None;
    empty.duration_s = f64::NAN;
    empty.sentiment.clear();
    let note = build_note(&empty);
    assert_eq!(note.summary, "");
    assert!(note.objections.is_empty() && note.prices.is_empty());
    assert_eq!(note.duration_s, 0.0);
    assert_eq!(note.follow_up_date, None);
    assert_eq!(
        note.missing,
        [
            "customer",
            "duration_s",
            "speakers",
            "summary",
            "objections"
        ]
    );
    assert_eq!(note.completeness, 0.29);
    Ok(())
}

#[test]
fn a_call_with_no_customer_speech() -> Result<()> {
    let call = vec![
        line(0, Some(Rep), "Hello? Is anyone there?", "greeting", None),
        line(
            1,
            Some(Rep),
            "I'll call you back tomorrow.",
            "commitment",
            None,
        ),
    ];
    let note = build_note(&input("en", call)?);
    assert_eq!(note.speakers.len(), 1);
    assert_eq!(note.speakers[0].speaker, Some(Rep));
    assert!(note.missing.contains(&"objections".to_string()));
    assert_eq!(note.follow_up_date.as_deref(), Some("2026-12-03"));
    Ok(())
}

#[test]
fn lines_with_no_speaker() -> Result<()> {
    let call = vec![
        line(0, None, "价格太高了", "objection", Some("price_too_high")),
        line(1, None, "可以打九折", "other", None),
    ];
    let note = build_note(&input("zh", call)?);
    assert_eq!(note.speakers.len(), 1);
    assert_eq!(note.speakers[0].speaker, None);
    assert!(note.objections[0].answered);
    assert!(note.missing.contains(&"speakers".to_string()));
    assert_eq!(note.summary, "可以打九折。");
    Ok(())
}

#[test]
fn contradictory_dates_are_resolved_and_reported() -> Result<()> {
    let call = vec![
        line(0, Some(Rep), "下周五我们见面聊", "next_step", None),
        line(
            1,
            Some(Customer),
            "下周五不行，改到下周一吧",
            "next_step",
            None,
        ),
        line(2, Some(Rep), "那就12月15日", "next_step", None),
    ];
    let note = build_note(&input("zh", call)?);
    assert_eq!(note.follow_up_date.as_deref(), Some("2026-12-15"));
    assert_eq!(note.conflicts.len(), 1);
    assert_eq!(note.conflicts[0].dropped, ["2026-12-11", "2026-12-07"]);
    Ok(())
}

#[test]
fn unresolvable_dates_leave_the_follow_up_missing() -> Result<()> {
    let call = vec![line(
        0,
        Some(Customer),
        "let's talk again sometime soon",
        "next_step",
        None,
    )];
    let note = build_note(&input("en", call)?);
    assert_eq!(note.follow_up_date, None);
    assert!(note.missing.contains(&"follow_up_date".to_string()));
    Ok(())
}

#[test]
fn amounts_without_currency_are_counted_or_take_the_default() -> Result<()> {
    let call = vec![line(0, Some(Rep), "报价是十二万八", "other", None)];
    let note = build_note(&input("zh", call.clone())?);
    assert_eq!(note.prices[0].currency, None);
    assert_eq!(note.amounts_without_currency, 1);

    let mut with_default = input("zh", call)?;
    with_default.default_currency = default_currency("zh").map(str::to_string);
    let note = build_note(&with_default);
    assert_eq!(note.prices[0].currency.as_deref(), Some("CNY"));
    assert!(note.prices[0].currency_assumed);
    assert_eq!(note.amounts_without_currency, 0);
    assert_eq!(default_currency("en"), None);
    Ok(())
}

#[test]
fn huge_text_is_capped_and_fast() -> Result<()> {
    let long: String = (0..5_000)
        .map(|k| format!("太贵了，报价{k}万元，下周五再联系。"))
        .collect();
    let call: Vec<CallUtterance> = (0..50)
        .map(|i| {
            let speaker = if i % 2 == 0 { Customer } else { Rep };
            line(i, Some(speaker), &long, "objection", Some("price_too_high"))
        })
        .collect();
    let started = std::time::Instant::now();
    let note = build_note(&input("zh", call)?);
    assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
    assert_eq!(note.prices.len(), MAX_ITEMS);
    assert!(note
        .objections
        .iter()
        .all(|o| o.quote.chars().count() <= QUOTE_CHARS + 1));
    assert!(note.summary.chars().count() <= SUMMARY_CHARS + 1);
    Ok(())
}

#[test]
fn out_of_order_utterances_are_read_in_call_order() -> Result<()> {
    let call = vec![
        line(1, Some(Rep), "我们可以打九折", "other", None),
        line(
            0,
            Some(Customer),
            "太贵了",
            "objection",
            Some("price_too_high"),
        ),
    ];
    let note = build_note(&input("zh", call)?);
    assert!(note.objections[0].answered);
    Ok(())
}

#[test]
fn traditional_characters_are_quoted_in_simplified() -> Result<()> {
    let call = vec![line(
        0,
        Some(Customer),
        "價格太貴了",
        "objection",
        Some("price_too_high"),
    )];
    let note = build_note(&input("zh", call)?);
    assert_eq!(note.objections[0].quote, "价格太贵了");
    Ok(())
}

#[test]
fn the_json_follows_the_contract() -> Result<()> {
    let call = vec![line(
        0,
        Some(Customer),
        "too expensive",
        "objection",
        Some("price_too_high"),
    )];
    let note = build_note(&input("en", call)?);
    let json = serde_json::to_value(&note).map_err(|e| Error::InvalidInput(e.to_string()))?;
    assert_eq!(json["objections"][0]["type"], "price_too_high");
    assert_eq!(json["objections"][0]["speaker"], "customer");
    assert!(json["follow_up_date"].is_null());
    assert!(json["completeness"].is_number());
    assert!(json["compliance"].is_array());
    Ok(())
}

#[test]
fn a_note_is_saved_with_its_outbox_event() -> Result<()> {
    let call = vec![
        line(
            0,
            Some(Customer),
            "太贵了",
            "objection",
            Some("price_too_high"),
        ),
        line(1, Some(Rep), "我明天把报价发给您", "commitment", None),
    ];
    let note = build_note(&input("zh", call)?);
    let record = note.to_record()?;
    assert_eq!(record.commitments[0].who.as_deref(), Some("rep"));
    assert_eq!(record.body["call_id"], "call-1");
    let (_dir, store) = crate::store::tests::temp_store();
    assert!(crate::store::save_note(&store, &record)?.is_some());
    let pending = crate::store::outbox_pending(&store, 10)?;
    assert_eq!(pending.len(), 1);
    Ok(())
}

#[test]
fn a_bad_start_instant_is_a_clear_error() {
    for bad in ["", "2026-12-02", "2026-12-02T10:00:00", "yesterday"] {
        let err = parse_started_at(bad)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("RFC 3339"), "{bad}: {err}");
    }
}
