//! The customer's sentiment over a call: per-utterance scores, a smoothed curve, its turning
//! points, and the live alert when the mood falls sharply.
//!
//! Scores come from [`super::suggest::sentiment`]; this module only shapes them. The curve is a
//! trailing moving average; a turning point is a peak or trough after which the smoothed curve
//! moves back by at least the playbook's swing (the zigzag rule), so small wobbles are not
//! turning points.

use super::playbook::SentimentSettings;
use super::SentimentPoint;

/// One scored utterance.
#[derive(Debug, Clone)]
pub(crate) struct Scored {
    pub seq: u32,
    pub at_s: f64,
    pub score: f32,
    /// The nearest sentiment class.
    pub label: String,
}

/// The customer's sentiment so far, for one call.
#[derive(Debug, Default)]
pub(crate) struct Curve {
    points: Vec<Scored>,
    /// The highest smoothed value since the last alert.
    peak: Option<f32>,
}

impl Curve {
    /// Adds a point; returns the fall from the peak when it reaches the alert threshold.
    pub(crate) fn push(&mut self, point: Scored, settings: &SentimentSettings) -> Option<f32> {
        self.points.push(point);
        let now = smoothed(&self.points, self.points.len() - 1, settings.smoothing);
        let peak = self.peak.map_or(now, |p| p.max(now));
        let fall = peak - now;
        if fall >= settings.alert_drop {
            self.peak = Some(now);
            return Some(fall);
        }
        self.peak = Some(peak);
        None
    }

    /// The curve with its turning points.
    pub(crate) fn points(&self, settings: &SentimentSettings) -> Vec<SentimentPoint> {
        let smooth: Vec<f32> = (0..self.points.len())
            .map(|i| smoothed(&self.points, i, settings.smoothing))
            .collect();
        let turning = turning_points(&smooth, settings.turning_point_swing);
        self.points
            .iter()
            .zip(smooth.iter().zip(turning))
            .map(|(p, (s, t))| SentimentPoint {
                at_s: p.at_s,
                score: p.score,
                turning_point: t,
                seq: p.seq,
                smoothed: *s,
                label: p.label.clone(),
            })
            .collect()
    }

    /// The mean score, none without points.
    pub(crate) fn mean(&self) -> Option<f32> {
        let n = self.points.len();
        (n > 0).then(|| self.points.iter().map(|p| p.score).sum::<f32>() / n as f32)
    }
}

/// The mean of the `window` scores ending at `i`.
fn smoothed(points: &[Scored], i: usize, window: usize) -> f32 {
    let from = (i + 1).saturating_sub(window.max(1));
    let slice = points.get(from..=i).unwrap_or(&[]);
    slice.iter().map(|p| p.score).sum::<f32>() / slice.len().max(1) as f32
}

/// Marks each peak or trough of `s` that the curve moves back from by at least `swing`.
fn turning_points(s: &[f32], swing: f32) -> Vec<bool> {
    let mut turning = vec![false; s.len()];
    let value = |i: usize| s.get(i).copied().unwrap_or(0.0);
    let (mut hi, mut lo) = (0usize, 0usize);
    let mut rising: Option<bool> = None;
    for i in 1..s.len() {
        match rising {
            None => {
                if value(i) > value(hi) {
                    hi = i;
                }
                if value(i) < value(lo) {
                    lo = i;
                }
                if value(hi) - value(lo) >= swing {
                    rising = Some(hi > lo);
                }
            }
            Some(true) if value(i) > value(hi) => hi = i,
            Some(true) if value(hi) - value(i) >= swing => {
                turning[hi] = true;
                rising = Some(false);
                lo = i;
            }
            Some(false) if value(i) < value(lo) => lo = i,
            Some(false) if value(i) - value(lo) >= swing => {
                turning[lo] = true;
                rising = Some(true);
                hi = i;
            }
            Some(_) => {}
        }
    }
    turning
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> SentimentSettings {
        SentimentSettings {
            temperature: 0.05,
            smoothing: 1,
            turning_point_swing: 0.5,
            alert_drop: 0.8,
        }
    }

    #[test]
    fn peaks_and_troughs_with_a_large_swing_are_turning_points() {
        let s = [0.0, 0.4, 0.9, 0.3, -0.5, -0.6, -0.55, 0.2, 0.3];
        let marks = turning_points(&s, 0.5);
        let at: Vec<usize> = marks
            .iter()
            .enumerate()
            .filter(|(_, t)| **t)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(at, [2, 5]);
        assert!(turning_points(&[0.1, 0.2, 0.1, 0.2, 0.1], 0.5)
            .iter()
            .all(|t| !t));
        assert!(turning_points(&[], 0.5).is_empty());
    }

    #[test]
    fn a_sharp_fall_alerts_once_until_it_falls_again() {
        let mut curve = Curve::default();
        let mut alerts = Vec::new();
        for (i, score) in [0.8, 0.6, -0.1, -0.2, 0.5, -0.4].into_iter().enumerate() {
            let point = Scored {
                seq: i as u32,
                at_s: i as f64,
                score,
                label: String::new(),
            };
            alerts.push(curve.push(point, &settings()).is_some());
        }
        assert_eq!(alerts, [false, false, true, false, false, true]);
        assert_eq!(curve.points(&settings()).len(), 6);
    }
}
