//! Decoding any supported file into 16 kHz chunks, one buffer per channel, as it is read.
//!
//! symphonia reads the container and decodes the codec packet by packet, so only one packet,
//! the resampler's block and the chunk handed out are in memory at a time: an hour of audio costs
//! no more memory than a minute. Channels stay apart because stereo calls carry the rep and the
//! customer on separate channels. Damaged audio is repaired where that is safe (a packet that does
//! not decode is skipped, NaN becomes silence, samples beyond full scale are clipped) and refused
//! with a clear error where it is not.
//!
//! AAC in MP4 comes out with the encoder's priming samples (about 23 ms) still at its start:
//! symphonia 0.5 does not apply the MP4 edit list that says to drop them, so M4A timestamps run
//! that much late.

use super::resample::Resampler;
use crate::error::{Error, Result};
use std::fs::File;
use std::path::{Path, PathBuf};
use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{Decoder, DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as CodecError;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

/// Source rates outside this range are refused rather than resampled.
const RATES: std::ops::RangeInclusive<u32> = 4_000..=384_000;
/// Packets in a row that fail to decode before the file is called corrupt.
const MAX_BAD_PACKETS: usize = 50;

/// A file being decoded: hands out 16 kHz audio in chunks, each a `Vec` per channel.
pub(crate) struct AudioStream {
    path: PathBuf,
    format: Box<dyn FormatReader>,
    decoder: Box<dyn Decoder>,
    track_id: u32,
    channels: usize,
    rate: u32,
    resampler: Option<Resampler>,
    /// Audio decoded while opening, handed out first.
    stash: Option<Vec<Vec<f32>>>,
    buffer: Option<SampleBuffer<f32>>,
    frames_out: u64,
    bad_packets: usize,
    repaired: u64,
    finished: bool,
}

fn refuse(path: &Path, reason: impl std::fmt::Display) -> Error {
    Error::Audio {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

impl AudioStream {
    /// Opens a file and reads its header; no audio is decoded yet.
    pub fn open(path: &Path) -> Result<AudioStream> {
        let file = File::open(path).map_err(|e| refuse(path, e))?;
        if file.metadata().map_err(|e| refuse(path, e))?.len() == 0 {
            return Err(refuse(path, "the file is empty"));
        }
        let source = MediaSourceStream::new(Box::new(file), Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(ext);
        }
        // Gapless mode trims encoder padding (MP3, AAC), so timestamps match the original.
        let options = FormatOptions {
            enable_gapless: true,
            ..Default::default()
        };
        let probed = symphonia::default::get_probe()
            .format(&hint, source, &options, &MetadataOptions::default())
            .map_err(|e| refuse(path, not_audio(e)))?;
        Self::from_format(path, probed.format)
    }

    fn from_format(path: &Path, format: Box<dyn FormatReader>) -> Result<AudioStream> {
        let track = format
            .tracks()
            .iter()
            .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
            .ok_or_else(|| refuse(path, "it holds no audio track"))?;
        let params = &track.codec_params;
        let decoder = symphonia::default::get_codecs()
            .make(params, &DecoderOptions::default())
            .map_err(|_| refuse(path, unsupported_codec(params.codec)))?;
        let track_id = track.id;
        let channels = params.channels.map_or(0, |c| c.count());
        let rate = params.sample_rate.unwrap_or(0);
        let mut stream = AudioStream {
            path: path.to_path_buf(),
            format,
            decoder,
            track_id,
            channels,
            rate,
            resampler: None,
            stash: None,
            buffer: None,
            frames_out: 0,
            bad_packets: 0,
            repaired: 0,
            finished: false,
        };
        if stream.channels == 0 || stream.rate == 0 {
            // Some containers (AAC in MP4) leave the layout to the codec: decode one packet.
            stream.stash = stream.next_planar()?;
        }
        stream.start_resampler()?;
        tracing::debug!(
            rate = stream.rate,
            channels = stream.channels,
            "audio opened"
        );
        Ok(stream)
    }

    fn start_resampler(&mut self) -> Result<()> {
        if !RATES.contains(&self.rate) {
            let reason = match self.rate {
                0 => "it gives no sample rate".to_string(),
                rate => format!("its sample rate of {rate} Hz is not usable"),
            };
            return Err(refuse(&self.path, reason));
        }
        if self.channels == 0 {
            return Err(refuse(&self.path, "it gives no channel count"));
        }
        self.resampler = Some(Resampler::new(self.rate, self.channels)?);
        Ok(())
    }

    /// The number of channels; every chunk has one buffer per channel.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// 16 kHz frames handed out so far.
    pub fn frames_out(&self) -> u64 {
        self.frames_out
    }

    /// The next stretch of 16 kHz audio, or `None` after the end. A file with no samples at all
    /// is an error, so that an empty recording is never mistaken for a silent one.
    pub fn next_chunk(&mut self) -> Result<Option<Vec<Vec<f32>>>> {
        while !self.finished {
            let planar = match self.stash.take() {
                Some(planar) => Some(planar),
                None => self.next_planar()?,
            };
            let chunk = match planar {
                Some(planar) => {
                    let refs: Vec<&[f32]> = planar.iter().map(Vec::as_slice).collect();
                    self.resampler()?.push(&refs)?
                }
                None => self.finish()?,
            };
            let frames = chunk.first().map_or(0, Vec::len);
            if frames > 0 {
                self.frames_out += frames as u64;
                return Ok(Some(chunk));
            }
        }
        Ok(None)
    }

    fn resampler(&mut self) -> Result<&mut Resampler> {
        let path = &self.path;
        self.resampler
            .as_mut()
            .ok_or_else(|| refuse(path, "it was read before its layout was known"))
    }

    fn finish(&mut self) -> Result<Vec<Vec<f32>>> {
        self.finished = true;
        let tail = self.resampler()?.finish()?;
        let total = self.frames_out + tail.first().map_or(0, Vec::len) as u64;
        if total == 0 {
            return Err(refuse(&self.path, "it holds no audio samples"));
        }
        if self.repaired > 0 {
            tracing::warn!(
                samples = self.repaired,
                "non-finite or clipped samples repaired"
            );
        }
        Ok(tail)
    }

    /// Decodes packets until one gives samples: planar, sanitised, at the source rate.
    fn next_planar(&mut self) -> Result<Option<Vec<Vec<f32>>>> {
        loop {
            let packet = match self.format.next_packet() {
                Ok(packet) => packet,
                Err(e) => return self.end_of_stream(e),
            };
            if packet.track_id() != self.track_id {
                continue;
            }
            match self.decoder.decode(&packet) {
                Ok(decoded) => {
                    self.bad_packets = 0;
                    let spec = *decoded.spec();
                    if self.channels == 0 || self.rate == 0 {
                        self.channels = spec.channels.count();
                        self.rate = spec.rate;
                    }
                    if spec.channels.count() != self.channels {
                        return Err(refuse(&self.path, "its channel count changes midway"));
                    }
                    let needed = decoded.capacity();
                    let buffer = match self.buffer.as_mut() {
                        Some(b) if b.capacity() >= needed * self.channels => b,
                        _ => self.buffer.insert(SampleBuffer::new(needed as u64, spec)),
                    };
                    buffer.copy_planar_ref(decoded);
                    let planar = split_planar(buffer.samples(), self.channels, &mut self.repaired);
                    return Ok(Some(planar));
                }
                Err(CodecError::DecodeError(reason)) => self.skip_packet(reason)?,
                Err(e) => return Err(refuse(&self.path, e)),
            }
        }
    }

    fn skip_packet(&mut self, reason: &str) -> Result<()> {
        self.bad_packets += 1;
        tracing::warn!(reason, "audio packet skipped");
        if self.bad_packets >= MAX_BAD_PACKETS {
            return Err(refuse(&self.path, format!("it is corrupt ({reason})")));
        }
        Ok(())
    }

    /// The container's end: the normal end of file, or a cut-off one, read as far as it goes.
    fn end_of_stream(&mut self, err: CodecError) -> Result<Option<Vec<Vec<f32>>>> {
        match err {
            CodecError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
            CodecError::ResetRequired => Ok(None),
            CodecError::DecodeError(reason) if self.frames_out > 0 => {
                tracing::warn!(reason, "audio ends in damaged data");
                Ok(None)
            }
            other => Err(refuse(&self.path, other)),
        }
    }
}

/// Splits symphonia's planar samples into one `Vec` per channel, replacing NaN and infinities
/// with silence and clipping beyond full scale.
fn split_planar(samples: &[f32], channels: usize, repaired: &mut u64) -> Vec<Vec<f32>> {
    let frames = samples.len() / channels.max(1);
    samples
        .chunks_exact(frames.max(1))
        .take(channels)
        .map(|channel| {
            channel
                .iter()
                .map(|&s| {
                    let clean = if s.is_finite() {
                        s.clamp(-1.0, 1.0)
                    } else {
                        0.0
                    };
                    if clean != s {
                        *repaired += 1;
                    }
                    clean
                })
                .collect()
        })
        .collect()
}

fn not_audio(err: CodecError) -> String {
    match err {
        CodecError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            "it is empty or cut off before its header ends".into()
        }
        CodecError::Unsupported(_) => "it is not audio in a format this library reads \
            (WAV, FLAC, MP3, AAC/M4A, Ogg Vorbis)"
            .into(),
        other => format!("its header is damaged ({other})"),
    }
}

fn unsupported_codec(codec: symphonia::core::codecs::CodecType) -> String {
    let name = symphonia::default::get_codecs()
        .get_codec(codec)
        .map_or_else(|| format!("codec {codec}"), |d| d.short_name.to_string());
    format!(
        "its {name} audio is not a codec this library decodes (PCM, FLAC, MP3, AAC, Vorbis; \
         Opus has no pure-Rust decoder yet)"
    )
}
