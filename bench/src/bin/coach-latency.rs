//! Coaching latency: the time from a final, classified utterance to its live coach events.
//!
//!     cargo run --release -p copilot-bench --bin coach-latency [-- CALLS]
//!
//! Replays a scripted Chinese and English call (objections, compliance statements, small talk)
//! CALLS times (default 20) through `Engine::coach_call` and prints p50 and p95 of the coach's
//! own time per utterance, split into customer utterances (encoder, suggestions, sentiment)
//! and rep utterances (compliance only), and the encoder alone on the customer lines, since a
//! customer utterance costs one embedding. Classification is done beforehand and not counted.

use copilot_bench::models_dir;
use copilot_core::{CallUtterance, Engine, EngineConfig, Speaker, Utterance};

const CALL: &[(&str, &str)] = &[
    ("rep", "您好，我是李娜，本次通话录音"),
    ("customer", "你好，上次说的超声我们看过了"),
    ("customer", "但是说实话你们这个价格太高了"),
    ("rep", "理解，我们这个报价有效期是三十天"),
    ("customer", "康泰医疗给的报价便宜不少"),
    ("rep", "注册证号是国械注准二零一九三零六零一零零"),
    ("customer", "这个得院长拍板，我做不了主"),
    (
        "customer",
        "okay but the price is still way too high for us",
    ),
    ("customer", "we don't have budget left this year"),
    ("rep", "the quote is valid for thirty days"),
    ("customer", "行吧，你下周把合同发过来"),
    ("rep", "好的，我周五前发给您"),
];

fn percentiles(mut values: Vec<f64>) -> (f64, f64) {
    values.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let i = ((values.len() as f64 - 1.0) * q).round() as usize;
        values.get(i).copied().unwrap_or(f64::NAN)
    };
    (at(0.5), at(0.95))
}

fn classified(engine: &Engine) -> Vec<CallUtterance> {
    let mut previous: Option<String> = None;
    let mut out = Vec::new();
    for (seq, (who, text)) in CALL.iter().enumerate() {
        let speaker = if *who == "rep" {
            Speaker::Rep
        } else {
            Speaker::Customer
        };
        let utterance = Utterance {
            text: text.to_string(),
            speaker: Some(speaker),
            previous: previous.replace(text.to_string()),
        };
        let classification = engine.classify(utterance).expect("classify");
        out.push(CallUtterance {
            seq: seq as u32,
            start_s: seq as f64 * 6.0,
            end_s: seq as f64 * 6.0 + 5.0,
            speaker: Some(speaker),
            text: text.to_string(),
            classification,
        });
    }
    out
}

fn main() {
    let calls: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let data = std::env::temp_dir().join(format!("coach-latency-{}", std::process::id()));
    let engine = Engine::new(EngineConfig {
        models_dir: models_dir().display().to_string(),
        data_dir: data.display().to_string(),
    })
    .expect("engine");
    let utterances = classified(&engine);
    // The first call embeds the playbook; it is warm-up, not measured.
    let warm = engine.coach_call("rep-bench".into(), "warm".into(), None, utterances.clone());
    warm.expect("warm-up call");
    let (mut customer, mut rep) = (Vec::new(), Vec::new());
    let mut events = 0;
    for n in 0..calls {
        let call_id = format!("bench-{n}");
        let replay = engine
            .coach_call(format!("rep-{n}"), call_id, None, utterances.clone())
            .expect("coach call");
        for (u, coached) in utterances.iter().zip(&replay.utterances) {
            let ms = coached.micros as f64 / 1e3;
            events += coached.events.len();
            match u.speaker {
                Some(Speaker::Rep) => rep.push(ms),
                _ => customer.push(ms),
            }
        }
    }
    let mut encoder = Vec::new();
    for (_, text) in CALL.iter().filter(|(who, _)| *who == "customer") {
        let started = std::time::Instant::now();
        engine.embed(text.to_string()).expect("embed");
        encoder.push(started.elapsed().as_secs_f64() * 1e3);
    }
    let (e50, e95) = percentiles(encoder);
    let (c50, c95) = percentiles(customer.clone());
    let (r50, r95) = percentiles(rep.clone());
    let (a50, a95) = percentiles([customer, rep].concat());
    println!(
        "coach latency over {calls} calls of {} utterances ({events} events)",
        CALL.len()
    );
    println!("  customer utterances  p50 {c50:7.2} ms  p95 {c95:7.2} ms");
    println!("  rep utterances       p50 {r50:7.2} ms  p95 {r95:7.2} ms");
    println!("  all                  p50 {a50:7.2} ms  p95 {a95:7.2} ms");
    println!(
        "  encoder alone        p50 {e50:7.2} ms  p95 {e95:7.2} ms (one embedding, for scale)"
    );
    let _ = std::fs::remove_dir_all(&data);
}
