//! Firehose's retry schedule (spec A1): 1 s, doubling, ±15 % jitter, capped at 2 minutes.

use std::time::Duration;

use rand::Rng;

const FIRST: Duration = Duration::from_secs(1);
const CAP: Duration = Duration::from_secs(120);

pub struct Backoff {
    next: Duration,
}

impl Backoff {
    pub fn new() -> Self {
        Self { next: FIRST }
    }

    pub fn next_delay(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(CAP);
        let jitter = rand::thread_rng().gen_range(0.85..=1.15);
        base.mul_f64(jitter).min(CAP)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_with_jitter_up_to_the_cap() {
        let mut b = Backoff::new();
        let first = b.next_delay();
        assert!(first >= Duration::from_millis(850) && first <= Duration::from_millis(1150));
        let second = b.next_delay();
        assert!(second >= Duration::from_millis(1700) && second <= Duration::from_millis(2300));
        for _ in 0..20 {
            assert!(b.next_delay() <= CAP);
        }
    }
}
