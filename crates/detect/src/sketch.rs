//! A mergeable quantile sketch for statistical thresholds (p0 … p100 over the devices of a
//! profile): values fall into logarithmic buckets `(γ^(i-1), γ^i]` with γ = (1+α)/(1-α),
//! so any quantile it answers is within relative error α = 1% of a true value of that rank
//! (the DDSketch construction). Two sketches merge by adding bucket counts.

use std::collections::BTreeMap;

/// The relative error of every answered quantile.
pub const RELATIVE_ERROR: f64 = 0.01;
/// Values below this count as zero.
const MIN_POSITIVE: f64 = 1e-9;

#[derive(Debug, Clone, Default)]
pub struct Sketch {
    buckets: BTreeMap<i32, u64>,
    zeros: u64,
    count: u64,
    /// Percentiles are unavailable once a negative value was seen (spec 2.2).
    negative: bool,
}

fn gamma_ln() -> f64 {
    ((1.0 + RELATIVE_ERROR) / (1.0 - RELATIVE_ERROR)).ln()
}

impl Sketch {
    pub fn add(&mut self, value: f64) {
        if !value.is_finite() {
            return;
        }
        self.count += 1;
        if value < 0.0 {
            self.negative = true;
        } else if value < MIN_POSITIVE {
            self.zeros += 1;
        } else {
            let index = (value.ln() / gamma_ln()).ceil() as i32;
            *self.buckets.entry(index).or_insert(0) += 1;
        }
    }

    pub fn merge(&mut self, other: &Sketch) {
        for (i, c) in &other.buckets {
            *self.buckets.entry(*i).or_insert(0) += c;
        }
        self.zeros += other.zeros;
        self.count += other.count;
        self.negative |= other.negative;
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// The value at rank `q` (0..=1), or `None` without data or after a negative value.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.count == 0 || self.negative {
            return None;
        }
        let rank = (q.clamp(0.0, 1.0) * (self.count - 1) as f64).round() as u64;
        if rank < self.zeros {
            return Some(0.0);
        }
        let mut seen = self.zeros;
        let g = gamma_ln().exp();
        for (i, c) in &self.buckets {
            seen += c;
            if seen > rank {
                // The bucket's centre in relative terms: within α of every value in it.
                return Some(2.0 * g.powi(*i) / (g + 1.0));
            }
        }
        self.buckets
            .keys()
            .next_back()
            .map(|i| 2.0 * g.powi(*i) / (g + 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_within_the_relative_error() {
        let mut a = Sketch::default();
        let mut b = Sketch::default();
        let values: Vec<f64> = (1..=10_000).map(|i| (i as f64).powf(1.3)).collect();
        for (i, v) in values.iter().enumerate() {
            if i % 2 == 0 { a.add(*v) } else { b.add(*v) }
        }
        a.merge(&b);
        for q in [0.0, 0.001, 0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0] {
            let exact = values[(q * (values.len() - 1) as f64).round() as usize];
            let got = a.quantile(q).unwrap();
            assert!(
                (got - exact).abs() <= exact * RELATIVE_ERROR * 1.0001,
                "q={q} exact={exact} got={got}"
            );
        }
    }

    #[test]
    fn zeros_empty_and_negative() {
        let mut s = Sketch::default();
        assert_eq!(s.quantile(0.5), None);
        s.add(0.0);
        s.add(0.0);
        s.add(100.0);
        assert_eq!(s.quantile(0.5), Some(0.0));
        assert!((s.quantile(1.0).unwrap() - 100.0).abs() <= 1.0);
        s.add(-1.0);
        assert_eq!(s.quantile(0.5), None);
    }
}
