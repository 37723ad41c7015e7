//! Reading call audio into 16 kHz mono samples, the only input the recogniser takes.
//!
//! This first cut reads PCM and float WAV at 16 kHz and mixes channels down. Other rates,
//! compressed formats, streaming decode and per-channel speakers are not here yet: the WAV
//! reader refuses them with a clear error instead of guessing.

use crate::error::{Error, Result};
use std::path::Path;

/// The sample rate the recogniser works at.
pub(crate) const SAMPLE_RATE: u32 = 16_000;

/// Mono samples in [-1, 1] at [`SAMPLE_RATE`].
#[derive(Debug)]
pub(crate) struct Pcm {
    pub samples: Vec<f32>,
}

impl Pcm {
    pub fn duration_s(&self) -> f64 {
        self.samples.len() as f64 / f64::from(SAMPLE_RATE)
    }
}

fn audio_error(path: &Path, reason: impl std::fmt::Display) -> Error {
    Error::Audio {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// Reads a WAV file and mixes its channels to mono.
pub(crate) fn read_wav(path: &Path) -> Result<Pcm> {
    let mut reader = hound::WavReader::open(path).map_err(|e| audio_error(path, e))?;
    let spec = reader.spec();
    if spec.sample_rate != SAMPLE_RATE {
        return Err(audio_error(
            path,
            format!(
                "it is {} Hz; only 16 kHz WAV is read so far",
                spec.sample_rate
            ),
        ));
    }
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader.samples::<f32>().collect::<Result<_, _>>(),
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample.saturating_sub(1))) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()
        }
    }
    .map_err(|e| audio_error(path, e))?;
    let channels = usize::from(spec.channels.max(1));
    let samples = interleaved
        .chunks(channels)
        .map(|frame| frame.iter().sum::<f32>() / channels as f32)
        .collect();
    Ok(Pcm { samples })
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn stereo_is_mixed_to_mono() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.wav");
        write_wav(&path, 16_000, 2, &[16384, 0, -16384, -16384]);
        let pcm = read_wav(&path).unwrap();
        assert_eq!(pcm.samples, vec![0.25, -0.5]);
    }

    #[test]
    fn wrong_rate_truncated_and_garbage_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.wav");
        write_wav(&path, 44_100, 1, &[0; 100]);
        assert!(read_wav(&path)
            .unwrap_err()
            .to_string()
            .contains("44100 Hz"));

        write_wav(&path, 16_000, 1, &[1000; 1000]);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2 + 1]).unwrap();
        assert!(read_wav(&path).is_err());

        std::fs::write(&path, b"this is not audio at all").unwrap();
        let err = read_wav(&path).unwrap_err().to_string();
        assert!(err.contains("cannot be read"), "{err}");
        assert!(read_wav(&dir.path().join("none.wav")).is_err());
    }
}
