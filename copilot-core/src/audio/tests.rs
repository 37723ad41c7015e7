//! Decoding tests: every format the fixtures carry, resampling, stereo, and damaged input.

use super::*;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/audio")
        .join(name)
}

fn write_wav(path: &Path, rate: u32, channels: u16, samples: &[i16]) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for s in samples {
        w.write_sample(*s).unwrap();
    }
    w.finalize().unwrap();
}

/// Loudness in 20 ms frames, to compare a lossy decode with the original.
fn envelope(samples: &[f32]) -> Vec<f32> {
    samples
        .chunks(320)
        .map(|c| (c.iter().map(|s| s * s).sum::<f32>() / c.len() as f32).sqrt())
        .collect()
}

fn correlation(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mean = |x: &[f32]| x.iter().sum::<f32>() / n as f32;
    let (ma, mb) = (mean(a), mean(b));
    let cov: f32 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let var = |x: &[f32], m: f32| x.iter().map(|v| (v - m) * (v - m)).sum::<f32>().sqrt();
    cov / (var(a, ma) * var(b, mb))
}

#[test]
fn sixteen_khz_wav_samples_are_exact() {
    let decoded = read_all(&fixture("jfk.wav")).unwrap();
    let mut reader = hound::WavReader::open(fixture("jfk.wav")).unwrap();
    let expected: Vec<f32> = reader
        .samples::<i16>()
        .map(|s| f32::from(s.unwrap()) / 32768.0)
        .collect();
    assert_eq!(decoded.channels.len(), 1);
    assert_eq!(decoded.channels[0], expected);
}

#[test]
fn compressed_formats_decode_to_the_original_speech() {
    let cases = [
        ("jfk-44k.m4a", "jfk.wav"),
        ("librivox-amiable-22k.mp3", "librivox-amiable.wav"),
        ("arctic-a0007-8k.flac", "arctic-a0007.wav"),
    ];
    for (file, original) in cases {
        let ours = read_all(&fixture(file)).unwrap();
        let wav = read_all(&fixture(original)).unwrap();
        let gap = (ours.duration_s() - wav.duration_s()).abs();
        assert!(
            gap < 0.06,
            "{file}: {} s, not {}",
            ours.duration_s(),
            wav.duration_s()
        );
        // AAC in MP4 starts with the encoder's priming samples, which symphonia does not trim
        // (it ignores the edit list): allow a lag of up to 3 frames (60 ms).
        let (ours, wav) = (envelope(&ours.mono()), envelope(&wav.mono()));
        let r = (0..=3)
            .map(|lag| correlation(&ours[lag..], &wav))
            .fold(f32::MIN, f32::max);
        assert!(r > 0.95, "{file}: loudness correlates only {r}");
    }
}

#[test]
fn stereo_keeps_its_channels_apart() {
    // The rep (channel 0) speaks for the first 4 s, the customer (channel 1) from 5 s on.
    let call = read_all(&fixture("call-stereo-24k.ogg")).unwrap();
    assert_eq!(call.channels.len(), 2);
    assert!(
        (call.duration_s() - 16.0).abs() < 0.01,
        "{}",
        call.duration_s()
    );
    let loud = |c: &[f32], from: f64, to: f64| {
        let (a, b) = ((from * 16_000.0) as usize, (to * 16_000.0) as usize);
        envelope(&c[a..b]).into_iter().fold(0.0f32, f32::max)
    };
    assert!(loud(&call.channels[0], 0.0, 4.0) > 0.05);
    assert!(loud(&call.channels[0], 6.0, 16.0) < 0.01);
    assert!(loud(&call.channels[1], 0.0, 4.9) < 0.01);
    assert!(loud(&call.channels[1], 5.0, 16.0) > 0.05);
}

#[test]
fn any_rate_and_channel_count_comes_out_at_16_khz() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("three.wav");
    let frames = 44_100;
    let samples: Vec<i16> = (0..frames * 3).map(|i| (i % 3) as i16 * 1000).collect();
    write_wav(&path, 44_100, 3, &samples);
    let decoded = read_all(&path).unwrap();
    assert_eq!(decoded.channels.len(), 3);
    assert_eq!(decoded.channels[0].len(), 16_000);
    let middle = |c: &Vec<f32>| c[8000];
    assert!(middle(&decoded.channels[0]).abs() < 1e-3);
    assert!((middle(&decoded.channels[2]) - 2000.0 / 32768.0).abs() < 1e-3);
}

fn audio_error(path: &Path) -> String {
    let err = read_all(path).unwrap_err();
    assert!(matches!(err, crate::error::Error::Audio { .. }), "{err:?}");
    err.to_string()
}

#[test]
fn empty_text_and_cut_headers_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.wav");
    std::fs::write(&path, b"").unwrap();
    let err = audio_error(&path);
    assert!(err.contains("empty"), "{err}");

    std::fs::write(&path, "Dear customer, this is a text file.\n".repeat(20)).unwrap();
    assert!(audio_error(&path).contains("not audio in a format"));

    let wav = std::fs::read(fixture("jfk.wav")).unwrap();
    std::fs::write(&path, &wav[..30]).unwrap();
    let err = audio_error(&path);
    assert!(err.starts_with("the audio"), "{err}");

    assert!(audio_error(&dir.path().join("missing.wav")).contains("No such file"));
}

#[test]
fn zero_samples_is_an_error_not_silence() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zero.wav");
    write_wav(&path, 16_000, 1, &[]);
    assert!(audio_error(&path).contains("no audio samples"));
}

#[test]
fn cut_off_data_decodes_what_is_there() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.wav");
    let wav = std::fs::read(fixture("jfk.wav")).unwrap();
    std::fs::write(&path, &wav[..44 + 16_000 * 2 * 3 + 1]).unwrap();
    let decoded = read_all(&path).unwrap();
    assert!(
        (decoded.duration_s() - 3.0).abs() < 0.01,
        "{}",
        decoded.duration_s()
    );

    let m4a = std::fs::read(fixture("jfk-44k.m4a")).unwrap();
    let cut = dir.path().join("cut.m4a");
    std::fs::write(&cut, &m4a[..m4a.len() / 2]).unwrap();
    match read_all(&cut) {
        Ok(d) => assert!(d.duration_s() < 11.0),
        Err(e) => assert!(e.to_string().starts_with("the audio"), "{e}"),
    }
}

#[test]
fn an_unsupported_codec_is_named_in_the_error() {
    // A WAV header declaring GSM 6.10 (format tag 0x31), which no decoder here reads.
    let mut wav = Vec::new();
    let fmt: [u16; 8] = [0x31, 1, 8000, 0, 1625, 0, 65, 0];
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(4 + 8 + 16 + 8 + 65u32).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    fmt.iter()
        .for_each(|v| wav.extend_from_slice(&v.to_le_bytes()));
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&65u32.to_le_bytes());
    wav.extend_from_slice(&[0u8; 65]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gsm.wav");
    std::fs::write(&path, wav).unwrap();
    let err = audio_error(&path);
    assert!(err.contains("not") && err.contains("this library"), "{err}");
}

#[test]
fn ogg_opus_is_refused_by_name() {
    let err = audio_error(&fixture("refused-opus.ogg"));
    assert!(err.contains("opus") && err.contains("not a codec"), "{err}");
}

#[test]
fn nan_and_overloud_samples_are_repaired() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("float.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(&path, spec).unwrap();
    for s in [0.5, f32::NAN, 3.0, -7.0, f32::INFINITY, -0.25] {
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();
    let decoded = read_all(&path).unwrap();
    assert_eq!(decoded.channels[0], vec![0.5, 0.0, 1.0, -1.0, 0.0, -0.25]);
}

/// Counts the bytes each thread holds, to show that decoding does not grow with the file.
mod counting {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    pub struct Counting;

    thread_local! {
        static LIVE: Cell<isize> = const { Cell::new(0) };
        static PEAK: Cell<isize> = const { Cell::new(0) };
    }

    fn track(delta: isize) {
        let _ = LIVE.try_with(|live| {
            let now = live.get() + delta;
            live.set(now);
            let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
        });
    }

    /// Restarts the peak at what this thread holds now; returns that.
    pub fn reset_peak() -> isize {
        let now = LIVE.with(Cell::get);
        PEAK.with(|p| p.set(now));
        now
    }

    pub fn peak() -> isize {
        PEAK.with(Cell::get)
    }

    // SAFETY: every call is passed to the system allocator unchanged; only counters are added.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            track(layout.size() as isize);
            System.alloc(layout)
        }
        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            track(layout.size() as isize);
            System.alloc_zeroed(layout)
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            track(-(layout.size() as isize));
            System.dealloc(ptr, layout)
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            track(new_size as isize - layout.size() as isize);
            System.realloc(ptr, layout, new_size)
        }
    }
}

#[global_allocator]
static ALLOCATOR: counting::Counting = counting::Counting;

#[test]
fn three_hours_stream_through_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.wav");
    let rate = 8_000u32;
    let frames = 3 * 3600 * rate as usize;
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&path, spec).unwrap();
    for i in 0..frames {
        w.write_sample(((i % 200) as i16 - 100) * 50).unwrap();
    }
    w.finalize().unwrap();

    let started = std::time::Instant::now();
    let base = counting::reset_peak();
    let mut stream = AudioStream::open(&path).unwrap();
    let (mut total, mut largest) = (0u64, 0usize);
    while let Some(chunk) = stream.next_chunk().unwrap() {
        total += chunk[0].len() as u64;
        largest = largest.max(chunk[0].len());
    }
    let held = counting::peak() - base;
    eprintln!(
        "3 h at 8 kHz: {total} frames out in {:.1} s, largest chunk {largest}, peak {} KiB held",
        started.elapsed().as_secs_f64(),
        held / 1024
    );
    assert_eq!(total, 3 * 3600 * 16_000);
    // The decoded file would be 691 MB of f32; the stream holds a few blocks.
    assert!(held < 4 << 20, "{held} bytes held");
}
