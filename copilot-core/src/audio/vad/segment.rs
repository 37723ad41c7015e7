//! Speech spans from per-window speech probabilities, decided as the audio arrives.
//!
//! Hysteresis keeps a span from flickering: speech starts at a window at or above the threshold
//! and ends only after a run of windows below a lower threshold lasting the minimum silence. Spans
//! shorter than the minimum speech are dropped as clicks and coughs; the rest get padding on both
//! sides so that word onsets and endings are not clipped. Whisper reads at most 30 s at a time,
//! so a span that grows longer is cut at its quietest window in the second half.

use super::WINDOW;

/// How probabilities become spans. Durations are in milliseconds. The default suits a live call,
/// where a span must close soon after the speaker stops.
#[derive(Debug, Clone)]
pub(crate) struct SegmentRules {
    /// Speech starts at a window with at least this probability.
    pub threshold: f32,
    /// Speech pauses at a window below this probability.
    pub neg_threshold: f32,
    pub min_speech_ms: u32,
    pub min_silence_ms: u32,
    pub pad_ms: u32,
    pub max_speech_ms: u32,
}

impl Default for SegmentRules {
    fn default() -> Self {
        SegmentRules {
            threshold: 0.5,
            neg_threshold: 0.35,
            min_speech_ms: 250,
            min_silence_ms: 500,
            pad_ms: 200,
            max_speech_ms: 30_000,
        }
    }
}

impl SegmentRules {
    /// For a whole recording, where nothing waits on the result: pauses under 2 s stay inside a
    /// span and 400 ms of padding is kept, as faster-whisper does. Whisper needs the context: cut
    /// at every short pause, tiny.en heard "and so am I fellow Americans" in the JFK clip.
    pub fn whole_file() -> SegmentRules {
        SegmentRules {
            min_silence_ms: 2_000,
            pad_ms: 400,
            ..SegmentRules::default()
        }
    }
}

impl SegmentRules {
    /// For a live call: the default pauses, and no span longer than 10 s, so that final text
    /// never waits long behind a speaker who does not pause.
    pub fn live() -> SegmentRules {
        SegmentRules {
            max_speech_ms: 10_000,
            ..SegmentRules::default()
        }
    }
}

/// A stretch of speech, in samples at 16 kHz from the start of the recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SpeechSpan {
    pub start: u64,
    pub end: u64,
}

impl SpeechSpan {
    pub fn start_s(&self) -> f64 {
        self.start as f64 / 16_000.0
    }

    pub fn end_s(&self) -> f64 {
        self.end as f64 / 16_000.0
    }
}

/// The segmenting state machine; windows are counted from the start of the recording.
pub(crate) struct Segmenter {
    min_speech: u64,
    min_silence: u64,
    max_speech: u64,
    pad: u64,
    rules: SegmentRules,
    window: u64,
    /// First window of the span in progress, and whether it got its leading padding.
    start: Option<(u64, bool)>,
    /// First window of the pause in progress inside a span.
    pause: Option<u64>,
    /// Loudness of each window of the span in progress, for cutting long spans.
    energies: Vec<f32>,
    last_end: u64,
}

fn windows(ms: u32) -> u64 {
    (u64::from(ms) * 16).div_ceil(WINDOW as u64)
}

impl Segmenter {
    pub fn new(rules: SegmentRules) -> Segmenter {
        Segmenter {
            min_speech: windows(rules.min_speech_ms),
            min_silence: windows(rules.min_silence_ms).max(1),
            max_speech: windows(rules.max_speech_ms).max(2),
            pad: u64::from(rules.pad_ms) * 16,
            rules,
            window: 0,
            start: None,
            pause: None,
            energies: Vec::new(),
            last_end: 0,
        }
    }

    /// Takes the next window's probability and loudness; returns a span when one has ended.
    pub fn push(&mut self, prob: f32, energy: f32) -> Option<SpeechSpan> {
        let index = self.window;
        self.window += 1;
        let Some((start, _)) = self.start else {
            if prob >= self.rules.threshold {
                self.start = Some((index, true));
                self.energies.push(energy);
            }
            return None;
        };
        self.energies.push(energy);
        if prob >= self.rules.threshold {
            self.pause = None;
        } else if prob < self.rules.neg_threshold && self.pause.is_none() {
            self.pause = Some(index);
        }
        if let Some(pause) = self.pause {
            if self.window - pause >= self.min_silence {
                return self.close(pause, true);
            }
        }
        if self.window - start >= self.max_speech {
            return self.split();
        }
        None
    }

    /// The first sample of the span in progress, if one is open.
    pub fn open_since(&self) -> Option<u64> {
        self.start.map(|(window, _)| window * WINDOW as u64)
    }

    /// Ends the recording of `samples` samples; returns the span still open, if any.
    pub fn finish(&mut self, samples: u64) -> Option<SpeechSpan> {
        let end = self.pause.unwrap_or(self.window);
        let span = self.close(end, true)?;
        Some(SpeechSpan {
            start: span.start,
            end: span.end.min(samples),
        })
    }

    /// Cuts an over-long span: at the pause in progress if there is one, else at the quietest
    /// window of its second half. The next span starts there without padding.
    fn split(&mut self) -> Option<SpeechSpan> {
        if let Some(pause) = self.pause {
            return self.close(pause, true);
        }
        let (start, _) = self.start?;
        let half = self.energies.len() / 2;
        let quietest = self
            .energies
            .iter()
            .enumerate()
            .skip(half.max(1))
            .min_by(|a, b| a.1.total_cmp(b.1))
            .map_or(self.energies.len(), |(i, _)| i);
        let cut = start + quietest as u64;
        let rest = self.energies.split_off(quietest.min(self.energies.len()));
        let span = self.close(cut, false);
        self.start = Some((cut, false));
        self.energies = rest;
        span
    }

    /// Closes the open span at window `end` (exclusive) and resets for the next.
    fn close(&mut self, end: u64, pad_end: bool) -> Option<SpeechSpan> {
        let (start, pad_start) = self.start.take()?;
        self.pause = None;
        self.energies.clear();
        if end.saturating_sub(start) < self.min_speech.max(1) {
            return None;
        }
        let window = WINDOW as u64;
        let lead = if pad_start { self.pad } else { 0 };
        let tail = if pad_end { self.pad } else { 0 };
        let start = (start * window).saturating_sub(lead).max(self.last_end);
        let end = end * window + tail;
        self.last_end = end;
        Some(SpeechSpan { start, end })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(probs: &[f32], rules: SegmentRules) -> Vec<(u64, u64)> {
        let mut s = Segmenter::new(rules);
        let mut spans: Vec<_> = probs.iter().filter_map(|&p| s.push(p, p)).collect();
        spans.extend(s.finish(probs.len() as u64 * WINDOW as u64));
        spans
            .into_iter()
            .map(|s| (s.start / WINDOW as u64, s.end / WINDOW as u64))
            .collect()
    }

    fn bare() -> SegmentRules {
        SegmentRules {
            pad_ms: 0,
            min_speech_ms: 96,
            min_silence_ms: 96,
            ..SegmentRules::default()
        }
    }

    #[test]
    fn hysteresis_bridges_short_dips_and_ends_on_long_ones() {
        let mut probs = vec![0.0; 5];
        probs.extend([0.9; 10]);
        probs.extend([0.4, 0.2, 0.9]); // a dip shorter than the minimum silence
        probs.extend([0.9; 5]);
        probs.extend([0.1; 10]);
        assert_eq!(run(&probs, bare()), vec![(5, 23)]);
    }

    #[test]
    fn short_blips_are_dropped_and_silence_gives_nothing() {
        let mut probs = vec![0.0; 20];
        probs.extend([0.9; 2]);
        probs.extend([0.0; 20]);
        assert!(run(&probs, bare()).is_empty());
        assert!(run(&[0.2; 500], SegmentRules::default()).is_empty());
    }

    #[test]
    fn padding_never_overlaps_the_previous_span_or_runs_past_the_end() {
        let rules = SegmentRules {
            pad_ms: 64,
            ..bare()
        };
        let mut probs = vec![0.9; 10];
        probs.extend([0.0; 4]);
        probs.extend([0.9; 10]);
        let spans = run(&probs, rules);
        assert_eq!(spans, vec![(0, 12), (12, 24)]);
    }

    #[test]
    fn long_speech_is_cut_at_its_quietest_window() {
        let rules = SegmentRules {
            max_speech_ms: 3200, // 100 windows
            ..bare()
        };
        let mut s = Segmenter::new(rules);
        let mut spans = Vec::new();
        for i in 0..250u64 {
            let energy = if i == 80 || i == 170 { 0.01 } else { 0.5 };
            spans.extend(s.push(0.9, energy));
        }
        spans.extend(s.finish(250 * WINDOW as u64));
        let w: Vec<_> = spans
            .iter()
            .map(|s| (s.start / WINDOW as u64, s.end / WINDOW as u64))
            .collect();
        assert_eq!(w, vec![(0, 80), (80, 170), (170, 250)]);
    }
}
