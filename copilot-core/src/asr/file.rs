//! A whole recording transcribed speech span by speech span, read as a stream.
//!
//! The file is decoded chunk by chunk; each channel that carries a speaker goes through its own
//! voice detector, and each speech span is decoded on its own as soon as the detector closes it,
//! its timestamps moved to the file's clock. Silence and noise never reach Whisper, so they
//! cannot come back as invented text.
//!
//! Every stereo file is taken for a two-speaker call: a stereo recording of one microphone (the
//! same voice on both channels) comes back twice, once per speaker, because nothing yet checks
//! whether the channels differ. Speech that the voice detector lets through is not yet checked
//! against Whisper's no-speech probability or for repeated text.

use super::lanes::{ChannelSegment, Lane, SpanDecoder};
use super::{DecodeOptions, WhisperModel};
use crate::audio::vad::{SegmentRules, SileroVad};
use crate::audio::{AudioStream, SAMPLE_RATE};
use crate::error::Result;
use std::path::Path;
use std::sync::Arc;

/// The transcript of a file, segments in time order.
pub(crate) struct FileRecognition {
    pub language: String,
    pub duration_s: f64,
    pub segments: Vec<ChannelSegment>,
}

/// Transcribes a file: stereo as two speakers (channel 0 and 1), anything else as one.
pub(crate) fn transcribe_file(
    model: &Arc<WhisperModel>,
    vad: &Arc<SileroVad>,
    path: &Path,
    opts: &DecodeOptions,
) -> Result<FileRecognition> {
    let mut stream = AudioStream::open(path)?;
    let mut lanes = Lane::for_channels(stream.channels(), vad, &SegmentRules::whole_file())?;
    let mut decoder = SpanDecoder::new(model.clone(), opts);
    let mut segments = Vec::new();
    while let Some(chunk) = stream.next_chunk()? {
        for lane in &mut lanes {
            for span in lane.push(&chunk)? {
                segments.extend(decoder.decode(lane, &span)?);
            }
        }
    }
    for lane in &mut lanes {
        for span in lane.detector.finish()? {
            segments.extend(decoder.decode(lane, &span)?);
        }
    }
    segments.sort_by(|a, b| a.segment.start_s.total_cmp(&b.segment.start_s));
    Ok(FileRecognition {
        language: decoder.language(),
        duration_s: stream.frames_out() as f64 / f64::from(SAMPLE_RATE),
        segments,
    })
}
