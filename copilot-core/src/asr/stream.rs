//! Live recognition: audio pushed in chunks while the call runs, final segments as each speech
//! span closes, and partial text for the span still in progress.
//!
//! The recogniser takes interleaved samples at the app's rate and channel count, resamples them
//! to 16 kHz and runs one voice detector per speaker (stereo: the rep on channel 0, the customer
//! on channel 1). Live rules close a span after half a second of silence and cut spans at 10 s,
//! so final text follows speech closely. Fitting the encoder's window to the span (whisper.cpp's
//! `audio_ctx`) would decode faster, but tiny.en then repeated one phrase dozens of times on the
//! JFK clip, so live decoding keeps the full window until a guard against repetition exists.
//! Partials re-decode the open span from its start; the caller asks for them only when it has
//! nothing else to do, so they never delay final text.

use super::lanes::{ChannelSegment, Lane, SpanDecoder};
use super::{DecodeOptions, WhisperModel};
use crate::audio::resample::Resampler;
use crate::audio::vad::{SegmentRules, SileroVad, SpeechSpan};
use crate::audio::SAMPLE_RATE;
use crate::error::{Error, Result};
use std::sync::Arc;

/// New audio in an open span before its partial text is decoded again (1 s).
const PARTIAL_EVERY: u64 = SAMPLE_RATE as u64;
/// The sample rates a live session accepts.
const RATES: std::ops::RangeInclusive<u32> = 8_000..=192_000;
/// The channel counts a live session accepts.
const CHANNELS: std::ops::RangeInclusive<usize> = 1..=8;

/// What live recognition produces.
#[derive(Debug, Clone)]
pub(crate) enum LiveOutput {
    /// The text so far of the speech still in progress on a lane; later partials and finally
    /// the span's segments replace it.
    Partial {
        channel: Option<usize>,
        start_s: f64,
        text: String,
    },
    /// A segment that will not change.
    Final(ChannelSegment),
}

/// Recognises one call's audio as it arrives.
pub(crate) struct LiveRecognizer {
    lanes: Vec<Lane>,
    decoder: SpanDecoder,
    resampler: Resampler,
    channels: usize,
    /// Per lane, the recording position up to which partial text was last decoded.
    partial_at: Vec<u64>,
}

impl LiveRecognizer {
    /// A recogniser for interleaved audio of `sample_rate` Hz and `channels` channels.
    pub fn new(
        model: Arc<WhisperModel>,
        vad: &Arc<SileroVad>,
        opts: &DecodeOptions,
        sample_rate: u32,
        channels: usize,
    ) -> Result<LiveRecognizer> {
        check_live_format(sample_rate, channels)?;
        let lanes = Lane::for_channels(channels, vad, &SegmentRules::live())?;
        Ok(LiveRecognizer {
            partial_at: vec![0; lanes.len()],
            lanes,
            decoder: SpanDecoder::new(model, opts),
            resampler: Resampler::new(sample_rate, channels)?,
            channels,
        })
    }

    /// Takes interleaved samples (frames of `channels` values, in -1..1); returns the final
    /// segments of the spans that closed. A chunk that is not whole frames, or that holds a
    /// non-finite sample, is refused before anything of it is used.
    pub fn push(&mut self, interleaved: &[f32]) -> Result<Vec<LiveOutput>> {
        if !interleaved.len().is_multiple_of(self.channels) {
            return Err(Error::InvalidInput(format!(
                "an audio chunk of {} samples is not whole frames of {} channels",
                interleaved.len(),
                self.channels
            )));
        }
        if interleaved.iter().any(|s| !s.is_finite()) {
            return Err(Error::InvalidInput(
                "the audio chunk holds a sample that is not a finite number".into(),
            ));
        }
        let planar = deinterleave(interleaved, self.channels);
        let refs: Vec<&[f32]> = planar.iter().map(Vec::as_slice).collect();
        let resampled = self.resampler.push(&refs)?;
        self.feed(&resampled)
    }

    /// Decodes the open spans that grew by a second or more since their last partial.
    pub fn partials(&mut self) -> Result<Vec<LiveOutput>> {
        let mut out = Vec::new();
        for (i, lane) in self.lanes.iter().enumerate() {
            let Some(start) = lane.detector.open_since() else {
                continue;
            };
            let end = lane.recent.end();
            if end.saturating_sub(start.max(self.partial_at[i])) < PARTIAL_EVERY {
                continue;
            }
            self.partial_at[i] = end;
            let span = SpeechSpan { start, end };
            let audio = lane.recent.span(&span);
            let segments = self.decoder.decode_samples(&audio, span.start_s())?;
            let text = join_texts(segments.iter().map(|s| s.text.as_str()));
            if !text.is_empty() {
                out.push(LiveOutput::Partial {
                    channel: lane.channel,
                    start_s: span.start_s(),
                    text,
                });
            }
        }
        Ok(out)
    }

    /// Ends the audio: flushes the resampler and closes every open span.
    pub fn finish(&mut self) -> Result<Vec<LiveOutput>> {
        let tail = self.resampler.finish()?;
        let mut out = self.feed(&tail)?;
        for lane in &mut self.lanes {
            for span in lane.detector.finish()? {
                out.extend(finals(self.decoder.decode(lane, &span)?));
            }
        }
        Ok(out)
    }

    /// Seconds of audio taken so far.
    pub fn duration_s(&self) -> f64 {
        self.lanes.first().map_or(0.0, |lane| {
            lane.recent.end() as f64 / f64::from(SAMPLE_RATE)
        })
    }

    /// The language decoded so far (the one asked for, or the first span's).
    pub fn language(&self) -> String {
        self.decoder.language()
    }

    fn feed(&mut self, planar: &[Vec<f32>]) -> Result<Vec<LiveOutput>> {
        let mut out = Vec::new();
        for lane in &mut self.lanes {
            for span in lane.push(planar)? {
                out.extend(finals(self.decoder.decode(lane, &span)?));
            }
        }
        Ok(out)
    }
}

/// Refuses a live audio format the recogniser cannot take.
pub(crate) fn check_live_format(sample_rate: u32, channels: usize) -> Result<()> {
    if !RATES.contains(&sample_rate) {
        return Err(Error::InvalidInput(format!(
            "a sample rate of {sample_rate} Hz is not supported; use 8 000 to 192 000 Hz"
        )));
    }
    if !CHANNELS.contains(&channels) {
        return Err(Error::InvalidInput(format!(
            "audio with {channels} channels is not supported; use 1 to 8"
        )));
    }
    Ok(())
}

fn finals(segments: Vec<ChannelSegment>) -> impl Iterator<Item = LiveOutput> {
    segments.into_iter().map(LiveOutput::Final)
}

fn deinterleave(interleaved: &[f32], channels: usize) -> Vec<Vec<f32>> {
    (0..channels)
        .map(|c| {
            interleaved
                .iter()
                .skip(c)
                .step_by(channels)
                .copied()
                .collect()
        })
        .collect()
}

/// Segment texts joined with spaces, except between Chinese characters.
pub(crate) fn join_texts<'a>(texts: impl Iterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for text in texts.map(str::trim).filter(|t| !t.is_empty()) {
        let glue = out.chars().next_back().is_some_and(crate::script::is_han)
            && text.chars().next().is_some_and(crate::script::is_han);
        if !out.is_empty() && !glue {
            out.push(' ');
        }
        out.push_str(text);
    }
    out
}
