//! Real loopback servers for tests: an SMTP sink and a Slack-style webhook sink.
//!
//! Both listen on `127.0.0.1` with an ephemeral port, record what arrives, can be told to
//! refuse, and stop when dropped (their tasks are aborted), so a test that forgets one never
//! hangs. Every wait is bounded. Other crates' tests use them to prove that an alert was really
//! delivered, and what it said, rather than that a function returned `Ok`.
//!
//! ```ignore
//! let smtp = SmtpSink::start().await;
//! // … configure the app with smtp.url(), trigger an alert …
//! let mails = smtp.wait_for(1, Duration::from_secs(5)).await;
//! assert_eq!(mails[0].subject, "Control CC6.1 failed");
//! ```

mod smtp;
mod webhook;

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

pub use smtp::{ReceivedMail, SmtpSink};
pub use webhook::WebhookSink;

/// A test that panicked while holding the lock must not turn every later assertion into a
/// poison error that hides the first failure.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Polls `snapshot` until it holds `n` items or `timeout` passes, then returns what it has.
async fn wait_for<T>(n: usize, timeout: Duration, snapshot: impl Fn() -> Vec<T>) -> Vec<T> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let items = snapshot();
        if items.len() >= n || tokio::time::Instant::now() >= deadline {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
