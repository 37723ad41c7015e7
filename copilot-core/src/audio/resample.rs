//! Rate conversion to 16 kHz with rubato's FFT resampler, fed as the decoder produces audio.
//!
//! The resampler works on fixed input blocks, so input is gathered until a block is full and the
//! output comes in blocks too. Its filter delays the output by a fixed number of frames; those are
//! dropped at the start and flushed out at the end, so sample N of the output is the instant
//! N / 16 000 s of the input and the output length matches the input's duration. Audio already at
//! 16 kHz passes through untouched, so the recogniser sees exactly the file's samples.

use super::SAMPLE_RATE;
use crate::error::{Error, Result};
use rubato::{FftFixedIn, Resampler as _};

/// Input frames per resampler block: about 20 to 60 ms at phone rates.
const BLOCK: usize = 1024;

/// Converts planar audio of one rate to [`SAMPLE_RATE`], block by block.
pub(crate) struct Resampler {
    fft: Option<FftFixedIn<f32>>,
    pending: Vec<Vec<f32>>,
    rate_in: u32,
    frames_in: u64,
    frames_out: u64,
    delay_left: usize,
}

impl Resampler {
    /// A resampler from `rate_in` for `channels` channels.
    pub fn new(rate_in: u32, channels: usize) -> Result<Resampler> {
        let fft = if rate_in == SAMPLE_RATE {
            None
        } else {
            let fft = FftFixedIn::new(rate_in as usize, SAMPLE_RATE as usize, BLOCK, 2, channels)
                .map_err(|e| {
                Error::InvalidInput(format!("cannot resample {rate_in} Hz: {e}"))
            })?;
            Some(fft)
        };
        let delay_left = fft.as_ref().map_or(0, |f| f.output_delay());
        Ok(Resampler {
            fft,
            pending: vec![Vec::with_capacity(BLOCK); channels],
            rate_in,
            frames_in: 0,
            frames_out: 0,
            delay_left,
        })
    }

    /// Takes one planar block of input (every channel the same length) and returns the 16 kHz
    /// output that is ready, planar.
    pub fn push(&mut self, planar: &[&[f32]]) -> Result<Vec<Vec<f32>>> {
        let frames = planar.first().map_or(0, |c| c.len());
        self.frames_in += frames as u64;
        let Some(fft) = self.fft.as_mut() else {
            self.frames_out += frames as u64;
            return Ok(planar.iter().map(|c| c.to_vec()).collect());
        };
        let mut out = vec![Vec::new(); planar.len()];
        for (pending, channel) in self.pending.iter_mut().zip(planar) {
            pending.extend_from_slice(channel);
        }
        while self.pending.first().map_or(0, Vec::len) >= BLOCK {
            let block = fft
                .process(&self.pending, None)
                .map_err(|e| Error::Asr(format!("resampling failed: {e}")))?;
            self.pending.iter_mut().for_each(|p| drop(p.drain(..BLOCK)));
            append(&mut out, block);
        }
        Ok(self.trim(out, None))
    }

    /// Flushes what the filter still holds; the output then covers the whole input.
    pub fn finish(&mut self) -> Result<Vec<Vec<f32>>> {
        let expected = self.frames_in * u64::from(SAMPLE_RATE) / u64::from(self.rate_in);
        let Some(fft) = self.fft.as_mut() else {
            return Ok(vec![Vec::new(); self.pending.len()]);
        };
        let mut out = vec![Vec::new(); self.pending.len()];
        // rubato refuses an empty input where it means "no input": pass none instead.
        let pending = std::mem::take(&mut self.pending);
        let mut input = pending
            .first()
            .is_some_and(|p| !p.is_empty())
            .then_some(pending);
        // Each round adds a block of output, so this ends.
        while self.frames_out + total(&out) < expected + self.delay_left as u64 {
            let block = fft
                .process_partial(input.take().as_deref(), None)
                .map_err(|e| Error::Asr(format!("resampling failed: {e}")))?;
            if block.first().is_none_or(Vec::is_empty) {
                break;
            }
            append(&mut out, block);
        }
        Ok(self.trim(out, Some(expected)))
    }

    /// Drops the filter's delay from the front and, at the end, anything past the input's length.
    fn trim(&mut self, mut out: Vec<Vec<f32>>, end: Option<u64>) -> Vec<Vec<f32>> {
        let skip = self.delay_left.min(out.first().map_or(0, Vec::len));
        if skip > 0 {
            out.iter_mut().for_each(|c| drop(c.drain(..skip)));
            self.delay_left -= skip;
        }
        if let Some(end) = end {
            let keep = end.saturating_sub(self.frames_out) as usize;
            out.iter_mut().for_each(|c| c.truncate(keep));
        }
        self.frames_out += out.first().map_or(0, Vec::len) as u64;
        out
    }
}

fn append(out: &mut [Vec<f32>], block: Vec<Vec<f32>>) {
    for (o, b) in out.iter_mut().zip(block) {
        o.extend_from_slice(&b);
    }
}

fn total(out: &[Vec<f32>]) -> u64 {
    out.first().map_or(0, Vec::len) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(rate: u32, input: &[f32], piece: usize) -> Vec<f32> {
        let mut r = Resampler::new(rate, 1).unwrap();
        let mut out = Vec::new();
        for chunk in input.chunks(piece) {
            out.extend(r.push(&[chunk]).unwrap().remove(0));
        }
        out.extend(r.finish().unwrap().remove(0));
        out
    }

    #[test]
    fn sixteen_khz_passes_through_unchanged() {
        let input: Vec<f32> = (0..5000).map(|i| (i as f32 * 0.01).sin()).collect();
        assert_eq!(run(16_000, &input, 777), input);
    }

    #[test]
    fn a_tone_keeps_its_length_phase_and_pitch() {
        for rate in [8_000u32, 22_050, 44_100, 48_000] {
            let seconds = 1.3;
            let n = (seconds * rate as f64) as usize;
            let tone = |t: f64| (2.0 * std::f64::consts::PI * 440.0 * t).sin() as f32;
            let input: Vec<f32> = (0..n).map(|i| tone(i as f64 / rate as f64)).collect();
            let out = run(rate, &input, 999);
            let expected = n as u64 * 16_000 / rate as u64;
            assert_eq!(out.len() as u64, expected, "{rate} Hz");
            // Away from the edges every sample is the tone at the same instant.
            let worst = (800..out.len() - 800)
                .map(|i| (out[i] - tone(i as f64 / 16_000.0)).abs())
                .fold(0.0f32, f32::max);
            // 0.1 at 440 Hz is a timing error under 40 µs (48 kHz comes out 21 µs early).
            assert!(worst < 0.1, "{rate} Hz: off by {worst}");
        }
    }
}
