//! Slows down password guessing: a sliding window of failures per key (account, address).
//! In-process, so with several instances each keeps its own count; the limit still holds
//! per instance behind a load balancer.
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;
use time::OffsetDateTime;

pub struct Limiter {
    max: u32,
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<OffsetDateTime>>>,
}

impl Limiter {
    pub fn new(max: u32, window: Duration) -> Self {
        Limiter {
            max,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Seconds until the key may try again, or `None` when it may try now.
    pub fn blocked_for(&self, key: &str, now: OffsetDateTime) -> Option<u64> {
        let mut map = self.failures.lock().unwrap();
        let q = map.get_mut(key)?;
        let window = time::Duration::try_from(self.window).unwrap_or(time::Duration::HOUR);
        while q.front().is_some_and(|t| *t + window <= now) {
            q.pop_front();
        }
        if q.len() as u32 >= self.max {
            let until = *q.front().unwrap() + window;
            Some((until - now).whole_seconds().max(1) as u64)
        } else {
            None
        }
    }

    pub fn fail(&self, key: &str, now: OffsetDateTime) {
        let mut map = self.failures.lock().unwrap();
        if map.len() > 100_000 {
            // Bound memory under a spray of distinct keys; losing old counts only loosens limits.
            map.clear();
        }
        map.entry(key.to_string()).or_default().push_back(now);
    }

    pub fn clear(&self, key: &str) {
        self.failures.lock().unwrap().remove(key);
    }
}
