//! A whole recording transcribed speech span by speech span, read as a stream.
//!
//! The file is decoded chunk by chunk; each channel that carries a speaker goes through its own
//! voice detector, and each speech span is decoded on its own as soon as the detector closes it,
//! its timestamps moved to the file's clock. Only the last few tens of seconds of audio are kept
//! (enough to cut out the longest span), so memory stays the same for a minute or for hours.
//! Silence and noise never reach Whisper, so they cannot come back as invented text.
//!
//! Every stereo file is taken for a two-speaker call: a stereo recording of one microphone (the
//! same voice on both channels) comes back twice, once per speaker, because nothing yet checks
//! whether the channels differ. Speech that the voice detector lets through is not yet checked
//! against Whisper's no-speech probability or for repeated text.

use super::{DecodeOptions, RawSegment, WhisperModel};
use crate::audio::vad::{SegmentRules, SileroVad, SpeechSpan, VoiceDetector};
use crate::audio::{AudioStream, SAMPLE_RATE};
use crate::error::Result;
use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;

/// A recognised segment and the channel it came from (`None` for mono or mixed audio).
#[derive(Debug, Clone)]
pub(crate) struct ChannelSegment {
    pub channel: Option<usize>,
    pub segment: RawSegment,
}

/// The transcript of a file, segments in time order.
pub(crate) struct FileRecognition {
    pub language: String,
    pub duration_s: f64,
    pub segments: Vec<ChannelSegment>,
}

/// One stream of speech: a channel of a stereo call, or the mono mix of anything else.
struct Lane {
    channel: Option<usize>,
    detector: VoiceDetector,
    recent: Recent,
}

/// The most recent samples of a lane, indexed by their position in the file.
struct Recent {
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

    fn span(&self, span: &SpeechSpan) -> Vec<f32> {
        let from = span.start.saturating_sub(self.first) as usize;
        let to = (span.end.saturating_sub(self.first) as usize).min(self.samples.len());
        self.samples.range(from.min(to)..to).copied().collect()
    }
}

/// Transcribes a file: stereo as two speakers (channel 0 and 1), anything else as one.
pub(crate) fn transcribe_file(
    model: &WhisperModel,
    vad: &Arc<SileroVad>,
    path: &Path,
    opts: &DecodeOptions,
) -> Result<FileRecognition> {
    let mut stream = AudioStream::open(path)?;
    let rules = SegmentRules::whole_file();
    let channels: Vec<Option<usize>> = match stream.channels() {
        2 => vec![Some(0), Some(1)],
        _ => vec![None],
    };
    let mut lanes = channels
        .into_iter()
        .map(|channel| {
            Ok(Lane {
                channel,
                detector: VoiceDetector::new(vad.clone(), rules.clone())?,
                recent: Recent::new(&rules),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let mut decoder = SpanDecoder::new(model, opts);
    while let Some(chunk) = stream.next_chunk()? {
        for lane in &mut lanes {
            let samples = lane_samples(&chunk, lane.channel);
            lane.recent.push(&samples);
            for span in lane.detector.push(&samples)? {
                decoder.decode(lane.channel, &lane.recent, &span)?;
            }
        }
    }
    for lane in lanes {
        for span in lane.detector.finish()? {
            decoder.decode(lane.channel, &lane.recent, &span)?;
        }
    }
    Ok(decoder.finish(stream.frames_out() as f64 / f64::from(SAMPLE_RATE)))
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
struct SpanDecoder<'a> {
    model: &'a WhisperModel,
    opts: DecodeOptions,
    language: Option<String>,
    segments: Vec<ChannelSegment>,
}

impl<'a> SpanDecoder<'a> {
    fn new(model: &'a WhisperModel, opts: &DecodeOptions) -> SpanDecoder<'a> {
        SpanDecoder {
            model,
            language: opts.language.clone(),
            opts: opts.clone(),
            segments: Vec::new(),
        }
    }

    fn decode(&mut self, channel: Option<usize>, recent: &Recent, span: &SpeechSpan) -> Result<()> {
        let audio = recent.span(span);
        if audio.is_empty() {
            return Ok(());
        }
        let opts = DecodeOptions {
            language: self.language.clone(),
            threads: self.opts.threads,
        };
        let recognition = self.model.transcribe(&audio, &opts)?;
        tracing::debug!(
            start_s = span.start_s(),
            end_s = span.end_s(),
            channel = ?channel,
            segments = recognition.segments.len(),
            "speech span decoded"
        );
        self.language.get_or_insert(recognition.language);
        let offset = span.start_s();
        for seg in recognition
            .segments
            .into_iter()
            .filter(|s| !s.text.is_empty())
        {
            tracing::trace!(text = %seg.text, "segment");
            let segment = RawSegment {
                start_s: offset + seg.start_s,
                end_s: (offset + seg.end_s).min(span.end_s()),
                text: seg.text,
            };
            self.segments.push(ChannelSegment { channel, segment });
        }
        Ok(())
    }

    fn finish(mut self, duration_s: f64) -> FileRecognition {
        self.segments
            .sort_by(|a, b| a.segment.start_s.total_cmp(&b.segment.start_s));
        let language = self
            .language
            .unwrap_or_else(|| self.model.default_language().to_string());
        FileRecognition {
            language,
            duration_s,
            segments: self.segments,
        }
    }
}
