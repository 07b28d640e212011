//! Staging keeps memory flat: a 64 MiB body, generated lazily, is staged and hashed with a
//! peak resident-set growth far below its size. In its own test binary so that no other test
//! shares the process whose memory is measured.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::stream;
use sha2::{Digest, Sha256};
use vouch_evidence::{Vault, VaultConfig};

const TOTAL: usize = 64 * 1024 * 1024;
const CHUNK: usize = 64 * 1024;

/// Resident-set figures from /proc/self/status, in KiB.
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staging_64_mib_keeps_memory_flat_and_hashes_right() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = VaultConfig {
        url: dir.path().join("blobs").display().to_string(),
        ..Default::default()
    };
    let vault = Vault::open(&cfg, &dir.path().join("staging")).unwrap();

    // The body: 1024 chunks of 64 KiB, each made when asked for and hashed as it goes out.
    let alongside = Arc::new(Mutex::new(Sha256::new()));
    let hasher = Arc::clone(&alongside);
    let body = stream::unfold(0usize, move |i| {
        let hasher = Arc::clone(&hasher);
        async move {
            if i * CHUNK >= TOTAL {
                return None;
            }
            let mut chunk = vec![0u8; CHUNK];
            let mut x = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            for b in chunk.iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = x as u8;
            }
            hasher.lock().unwrap().update(&chunk);
            Some((Ok::<_, std::io::Error>(Bytes::from(chunk)), i + 1))
        }
    });

    let before = status_kib("VmRSS:");
    let staged = vault.stage(body, TOTAL as u64).await.unwrap();
    let peak = status_kib("VmHWM:");

    let expected = hex::encode(alongside.lock().unwrap().clone().finalize());
    assert_eq!(staged.size, TOTAL as u64);
    assert_eq!(staged.sha256, expected);

    if let (Some(before), Some(peak)) = (before, peak) {
        let growth_mib = peak.saturating_sub(before) / 1024;
        assert!(
            growth_mib < 24,
            "staging 64 MiB raised the peak resident set by {growth_mib} MiB"
        );
    }

    let stored = vault.commit(staged).await.unwrap();
    assert_eq!(stored.sha256, expected);
    assert_eq!(
        vault.check(&expected).await.unwrap(),
        vouch_evidence::BlobCheck::Intact
    );
}
