//! Call audio in: any supported file decoded, resampled to 16 kHz and cut into speech.
//!
//! Everything downstream (voice activity, recognition) works on 16 kHz mono buffers, so this
//! module is the one place that knows about containers, codecs, sample rates and channel
//! layouts. Files are decoded as a stream of chunks ([`AudioStream`]) so that hours of audio
//! pass through in bounded memory; stereo keeps its channels apart because a call recorded in
//! stereo carries the rep on one channel and the customer on the other.

mod decode;
pub(crate) mod resample;
pub(crate) mod vad;

pub(crate) use decode::AudioStream;

#[cfg(test)]
use crate::error::Result;
#[cfg(test)]
use std::path::Path;

/// The sample rate the voice detector and the recogniser work at.
pub(crate) const SAMPLE_RATE: u32 = 16_000;

/// A whole file decoded at once: one buffer of 16 kHz samples per channel.
#[cfg(test)]
#[derive(Debug)]
pub(crate) struct Decoded {
    pub channels: Vec<Vec<f32>>,
}

#[cfg(test)]
impl Decoded {
    /// Seconds of audio.
    pub fn duration_s(&self) -> f64 {
        self.channels.first().map_or(0, Vec::len) as f64 / f64::from(SAMPLE_RATE)
    }

    /// The channels averaged into one.
    pub fn mono(&self) -> Vec<f32> {
        let n = self.channels.len().max(1) as f32;
        let frames = self.channels.first().map_or(0, Vec::len);
        (0..frames)
            .map(|i| self.channels.iter().filter_map(|c| c.get(i)).sum::<f32>() / n)
            .collect()
    }
}

/// Decodes a whole file into memory. For short clips and tests; long recordings go through
/// [`AudioStream`] chunk by chunk.
#[cfg(test)]
pub(crate) fn read_all(path: &Path) -> Result<Decoded> {
    let mut stream = AudioStream::open(path)?;
    let mut channels = vec![Vec::new(); stream.channels()];
    while let Some(chunk) = stream.next_chunk()? {
        for (all, part) in channels.iter_mut().zip(chunk) {
            all.extend(part);
        }
    }
    Ok(Decoded { channels })
}

#[cfg(test)]
mod tests;
