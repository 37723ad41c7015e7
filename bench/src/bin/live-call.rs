//! A streamed call from the first chunk to its note: engine start, live lag, the note's delay
//! after the last chunk, and peak memory, against the design's targets.
//!
//!     cargo run --release -p copilot-bench --bin live-call [-- CALL [SPEED] [MODEL]]
//!
//! CALL is a bundled call (default `en-monitors-chen`, 165 s of stereo), pushed in 100 ms
//! chunks of 16-bit PCM at SPEED times real time (default 1: a real call), with the distributor
//! snapshot imported and the call's customer set, as an app would. The lag of a final utterance
//! is the time from pushing the chunk that holds its end to its event arriving; the note delay
//! is the time `finish` takes after the last chunk. Peak memory is the process's high-water
//! resident set (`VmHWM`), everything loaded. Targets: lag at most 2 s, note within 1 s,
//! engine start under 1.5 s, peak memory under 350 MB.

use copilot_bench::{models_dir, root};
use copilot_core::{CallListener, CallOptions, Engine, EngineConfig, LiveEvent};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::DecoderOptions;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

/// When each final utterance's event arrived, with its end in call time.
struct Arrivals {
    began: Instant,
    finals: Mutex<Vec<(f64, Duration)>>,
    partials: Mutex<usize>,
}

impl CallListener for Arrivals {
    fn on_event(&self, event: LiveEvent) {
        match event {
            LiveEvent::Utterance { utterance } => {
                let at = self.began.elapsed();
                self.finals.lock().unwrap().push((utterance.end_s, at));
            }
            LiveEvent::Partial { .. } => *self.partials.lock().unwrap() += 1,
            _ => {}
        }
    }
}

/// The whole file as interleaved 16-bit PCM, with its rate and channel count.
fn decode(path: &std::path::Path) -> (Vec<i16>, u32, usize) {
    let file = std::fs::File::open(path).expect("open the call's audio");
    let stream = MediaSourceStream::new(Box::new(file), Default::default());
    let probed = symphonia::default::get_probe()
        .format(
            &Hint::new(),
            stream,
            &FormatOptions::default(),
            &MetadataOptions::default(),
        )
        .expect("probe");
    let mut format = probed.format;
    let track = format.default_track().expect("a track").clone();
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .expect("decoder");
    let rate = track.codec_params.sample_rate.expect("rate");
    let channels = track.codec_params.channels.expect("channels").count();
    let mut samples = Vec::new();
    while let Ok(packet) = format.next_packet() {
        let Ok(decoded) = decoder.decode(&packet) else {
            continue;
        };
        let mut buffer = SampleBuffer::<i16>::new(decoded.capacity() as u64, *decoded.spec());
        buffer.copy_interleaved_ref(decoded);
        samples.extend_from_slice(buffer.samples());
    }
    (samples, rate, channels)
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn percentile(values: &mut [f64], q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let i = ((values.len() as f64 - 1.0) * q).round() as usize;
    values.get(i).copied().unwrap_or(f64::NAN)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let call = args.next().unwrap_or_else(|| "en-monitors-chen".into());
    let speed: f64 = args
        .next()
        .map_or(1.0, |s| s.parse().expect("SPEED is a number"));
    let model = args.next().unwrap_or_else(|| "whisper-base".into());
    let calls = root().join("fixtures/calls");
    let facts: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(calls.join(format!("{call}.facts.json"))).expect("facts"),
    )
    .expect("facts JSON");
    let (samples, rate, channels) = decode(&calls.join(format!("{call}.ogg")));
    let audio_s = samples.len() as f64 / channels as f64 / f64::from(rate);

    let data = data_dir();
    let started = Instant::now();
    let engine = Engine::new(EngineConfig {
        models_dir: models_dir().display().to_string(),
        data_dir: data.display().to_string(),
    })
    .expect("engine");
    let engine_s = started.elapsed().as_secs_f64();
    let snapshot = root().join("fixtures/customers/distributor.json");
    engine
        .import_snapshot(snapshot.display().to_string())
        .expect("import");
    // The encoder's one-time work on a new data folder (the lexicon's embeddings) is not the
    // call's: do it first, as an app does after install.
    let warm = Instant::now();
    engine
        .embed("warm up".into())
        .and_then(|_| {
            engine.classify(copilot_core::Utterance {
                text: "it is too expensive".into(),
                speaker: None,
                previous: None,
            })
        })
        .expect("encoder");
    let warm_s = warm.elapsed().as_secs_f64();

    let options = CallOptions {
        rep_id: facts["rep_id"].as_str().unwrap_or("rep").into(),
        customer_id: facts["customer_id"].as_str().map(str::to_string),
        started_at: format!(
            "{}T10:00:00+08:00",
            facts["call_date"].as_str().unwrap_or("2026-12-01")
        ),
        language: facts["language"].as_str().map(str::to_string),
        consent_to_record: true,
        asr_model: Some(model.clone()),
        threads: None,
        script: None,
    };
    let load = Instant::now();
    let arrivals = Arc::new(Arrivals {
        began: Instant::now(),
        finals: Mutex::new(Vec::new()),
        partials: Mutex::new(0),
    });
    let session = engine
        .clone()
        .start_call(options, arrivals.clone())
        .expect("start");
    let start_call_s = load.elapsed().as_secs_f64();

    let chunk = (rate as usize / 10) * channels;
    let mut pushed_at: Vec<(f64, Duration)> = Vec::new();
    let t0 = Instant::now();
    for (i, piece) in samples.chunks(chunk).enumerate() {
        let due = Duration::from_secs_f64(i as f64 * 0.1 / speed);
        if let Some(wait) = due.checked_sub(t0.elapsed()) {
            std::thread::sleep(wait);
        }
        session
            .push_pcm16(piece.to_vec(), rate, channels as u32)
            .expect("push");
        let end_s = (i + 1) as f64 * 0.1;
        pushed_at.push((end_s, arrivals.began.elapsed()));
    }
    let last_push = Instant::now();
    let result = session.finish().expect("finish");
    let note_s = last_push.elapsed().as_secs_f64();

    let finals = arrivals.finals.lock().unwrap().clone();
    let mut lags: Vec<f64> = finals
        .iter()
        .filter_map(|(end_s, arrived)| {
            let pushed = pushed_at.iter().find(|(t, _)| *t >= *end_s)?;
            Some(arrived.saturating_sub(pushed.1).as_secs_f64())
        })
        .collect();
    let heard = lags.len();
    let (p50, p95, max) = (
        percentile(&mut lags, 0.5),
        percentile(&mut lags, 0.95),
        percentile(&mut lags, 1.0),
    );
    println!("call {call}: {audio_s:.1} s of {channels}-channel audio at {rate} Hz, pushed at {speed}x real time, {model}");
    println!("engine start (Engine::new)        {engine_s:>8.3} s   target < 1.5 s");
    println!("encoder warm-up, once per install {warm_s:>8.3} s");
    println!("start_call (speech models load)   {start_call_s:>8.3} s");
    println!(
        "final utterances                  {:>8}     ({heard} timed, {} partials)",
        result.utterances.len(),
        arrivals.partials.lock().unwrap()
    );
    println!(
        "final text lag p50 / p95 / max    {p50:>8.2} / {p95:.2} / {max:.2} s   target <= 2 s"
    );
    println!("note after the last chunk         {note_s:>8.2} s   target < 1 s");
    println!(
        "note completeness                 {:>8.2}",
        result.note.completeness
    );
    println!(
        "peak memory (VmHWM)               {:>8.0} MB  target < 350 MB",
        peak_rss_mb()
    );
}

/// The benchmark's data folder, kept between runs so the encoder's one-time work is done once.
fn data_dir() -> std::path::PathBuf {
    let dir = root().join("target/tmp/bench-data");
    std::fs::create_dir_all(&dir).expect("data folder");
    dir
}
