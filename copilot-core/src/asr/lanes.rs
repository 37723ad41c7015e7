//! The parts that whole files and live calls share: a lane per speaker with its own voice
//! detector and recent audio, and the decoder that turns a closed speech span into segments on
//! the recording's clock.
//!
//! Only the last few tens of seconds of each lane are kept (enough for the longest span), so
//! memory stays flat however long the recording runs.

use super::{DecodeOptions, RawSegment, WhisperModel};
use crate::audio::vad::{SegmentRules, SileroVad, SpeechSpan, VoiceDetector};
use crate::audio::SAMPLE_RATE;
use crate::error::Result;
use std::collections::VecDeque;
use std::sync::Arc;

/// A recognised segment and the channel it came from (`None` for mono or mixed audio).
#[derive(Debug, Clone)]
pub(crate) struct ChannelSegment {
    pub channel: Option<usize>,
    pub segment: RawSegment,
}

/// One stream of speech: a channel of a stereo call, or the mono mix of anything else.
pub(crate) struct Lane {
    pub channel: Option<usize>,
    pub detector: VoiceDetector,
    pub recent: Recent,
}

impl Lane {
    /// Lanes for audio of `channels` channels: two speakers for stereo, one lane otherwise.
    pub fn for_channels(
        channels: usize,
        vad: &Arc<SileroVad>,
        rules: &SegmentRules,
    ) -> Result<Vec<Lane>> {
        let lanes: Vec<Option<usize>> = match channels {
            2 => vec![Some(0), Some(1)],
            _ => vec![None],
        };
        lanes
            .into_iter()
            .map(|channel| {
                Ok(Lane {
                    channel,
                    detector: VoiceDetector::new(vad.clone(), rules.clone())?,
                    recent: Recent::new(rules),
                })
            })
            .collect()
    }

    /// Feeds this lane's part of a planar chunk; returns the spans that closed.
    pub fn push(&mut self, planar: &[Vec<f32>]) -> Result<Vec<SpeechSpan>> {
        let samples = lane_samples(planar, self.channel);
        self.recent.push(&samples);
        self.detector.push(&samples)
    }
}

/// The most recent samples of a lane, indexed by their position in the recording.
pub(crate) struct Recent {
    samples: VecDeque<f32>,
    first: u64,
    keep: usize,
}

impl Recent {
    fn new(rules: &SegmentRules) -> Recent {
        let ms = rules.max_speech_ms + 2 * rules.pad_ms + rules.min_silence_ms + 2_000;
        let keep = (u64::from(ms) * u64::from(SAMPLE_RATE) / 1000) as usize;
        Recent {
            samples: VecDeque::with_capacity(keep),
            first: 0,
            keep,
        }
    }

    fn push(&mut self, samples: &[f32]) {
        self.samples.extend(samples);
        let excess = self.samples.len().saturating_sub(self.keep);
        self.samples.drain(..excess);
        self.first += excess as u64;
    }

    /// The samples of a span, as far as they are still held.
    pub fn span(&self, span: &SpeechSpan) -> Vec<f32> {
        let from = span.start.saturating_sub(self.first) as usize;
        let to = (span.end.saturating_sub(self.first) as usize).min(self.samples.len());
        self.samples.range(from.min(to)..to).copied().collect()
    }

    /// The position just past the last sample pushed.
    pub fn end(&self) -> u64 {
        self.first + self.samples.len() as u64
    }
}

/// The lane's channel, or the mean of all channels.
fn lane_samples(chunk: &[Vec<f32>], channel: Option<usize>) -> Vec<f32> {
    if let Some(samples) = channel.and_then(|c| chunk.get(c)) {
        return samples.clone();
    }
    let n = chunk.len().max(1) as f32;
    let frames = chunk.first().map_or(0, Vec::len);
    (0..frames)
        .map(|i| chunk.iter().filter_map(|c| c.get(i)).sum::<f32>() / n)
        .collect()
}

/// Decodes spans one by one; the language found in the first span holds for the call.
pub(crate) struct SpanDecoder {
    model: Arc<WhisperModel>,
    opts: DecodeOptions,
    language: Option<String>,
}

impl SpanDecoder {
    pub fn new(model: Arc<WhisperModel>, opts: &DecodeOptions) -> SpanDecoder {
        SpanDecoder {
            model,
            language: opts.language.clone(),
            opts: opts.clone(),
        }
    }

    /// Decodes one closed span of a lane into segments on the recording's clock.
    pub fn decode(&mut self, lane: &Lane, span: &SpeechSpan) -> Result<Vec<ChannelSegment>> {
        let audio = lane.recent.span(span);
        if audio.is_empty() {
            return Ok(Vec::new());
        }
        let segments = self.decode_samples(&audio, span.start_s())?;
        tracing::debug!(
            start_s = span.start_s(),
            end_s = span.end_s(),
            channel = ?lane.channel,
            segments = segments.len(),
            "speech span decoded"
        );
        Ok(segments
            .into_iter()
            .map(|mut segment| {
                segment.end_s = segment.end_s.min(span.end_s());
                ChannelSegment {
                    channel: lane.channel,
                    segment,
                }
            })
            .collect())
    }

    /// Decodes audio that starts at `offset_s` of the recording; empty segments are dropped.
    pub fn decode_samples(&mut self, audio: &[f32], offset_s: f64) -> Result<Vec<RawSegment>> {
        let opts = DecodeOptions {
            language: self.language.clone(),
            ..self.opts.clone()
        };
        let recognition = self.model.transcribe(audio, &opts)?;
        self.language.get_or_insert(recognition.language);
        Ok(recognition
            .segments
            .into_iter()
            .filter(|s| !s.text.is_empty())
            .map(|s| {
                tracing::trace!(text = %s.text, "segment");
                RawSegment {
                    start_s: offset_s + s.start_s,
                    end_s: offset_s + s.end_s,
                    text: s.text,
                }
            })
            .collect())
    }

    /// The language decoded so far, or the model's default when nothing was heard.
    pub fn language(&self) -> String {
        self.language
            .clone()
            .unwrap_or_else(|| self.model.default_language().to_string())
    }
}
