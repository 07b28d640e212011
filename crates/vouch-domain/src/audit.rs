//! The audit log's hash chain.
//!
//! Every change of state appends one event. Each event's hash covers its content and the hash of
//! the event before it, so altering, removing or reordering any stored event breaks the chain
//! from that point on, and `verify_chain` names the first event where it breaks.
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The hash the first event links to.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An event as the application describes it, before it is placed in the chain.
#[derive(Clone, Debug, PartialEq)]
pub struct NewAuditEvent {
    /// Who did it: `user:<id>`, `token:<id>`, `system` or `cli`.
    pub actor: String,
    /// A readable label for the actor (an email address), kept for the log's reader.
    pub actor_label: String,
    /// Dotted verb, e.g. `user.create`.
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub request_id: Option<String>,
}

/// A stored event: its place in the chain and its hashes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEvent {
    pub seq: i64,
    /// UTC RFC 3339 with microseconds (see `time_fmt`).
    pub at: String,
    pub actor: String,
    pub actor_label: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub request_id: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEvent {
    /// Places `new` in the chain after an event with `prev_seq` / `prev_hash`.
    pub fn chain(new: NewAuditEvent, prev_seq: i64, prev_hash: &str, at: String) -> AuditEvent {
        let mut e = AuditEvent {
            seq: prev_seq + 1,
            at,
            actor: new.actor,
            actor_label: new.actor_label,
            action: new.action,
            object_type: new.object_type,
            object_id: new.object_id,
            before: new.before,
            after: new.after,
            request_id: new.request_id,
            prev_hash: prev_hash.to_string(),
            hash: String::new(),
        };
        e.hash = e.compute_hash();
        e
    }

    /// SHA-256 over a canonical JSON form of every field but `hash`. serde_json's maps are
    /// ordered by key, so the same event always serialises to the same bytes.
    pub fn compute_hash(&self) -> String {
        let canonical = serde_json::json!({
            "seq": self.seq,
            "at": self.at,
            "actor": self.actor,
            "actor_label": self.actor_label,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "before": self.before,
            "after": self.after,
            "request_id": self.request_id,
            "prev_hash": self.prev_hash,
        });
        let mut h = Sha256::new();
        h.update(canonical.to_string().as_bytes());
        hex::encode(h.finalize())
    }
}

/// Why a chain does not verify, naming the first bad event.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize)]
pub enum ChainError {
    #[error(
        "event {seq}: expected sequence number {expected}; an event before it was removed or the log was reordered"
    )]
    Gap { seq: i64, expected: i64 },
    #[error(
        "event {seq}: it does not link to the event before it; an earlier event was altered, removed or reordered"
    )]
    BrokenLink { seq: i64 },
    #[error("event {seq}: its content does not match its hash; the event was altered")]
    Altered { seq: i64 },
    #[error(
        "the log ends at event {last} but its head records event {head}; events at the end were removed"
    )]
    Truncated { last: i64, head: i64 },
}

/// Incremental verifier, so the store can stream events through it page by page.
#[derive(Debug)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_string(),
        }
    }
}

impl ChainVerifier {
    pub fn push(&mut self, e: &AuditEvent) -> Result<(), ChainError> {
        if e.seq != self.expected_seq {
            return Err(ChainError::Gap {
                seq: e.seq,
                expected: self.expected_seq,
            });
        }
        if e.prev_hash != self.prev_hash {
            return Err(ChainError::BrokenLink { seq: e.seq });
        }
        if e.compute_hash() != e.hash {
            return Err(ChainError::Altered { seq: e.seq });
        }
        self.expected_seq += 1;
        self.prev_hash = e.hash.clone();
        Ok(())
    }

    /// Checks the end of the log against the recorded head (last sequence number and hash).
    pub fn finish(self, head_seq: i64, head_hash: &str) -> Result<i64, ChainError> {
        let last = self.expected_seq - 1;
        if last != head_seq || (head_seq > 0 && self.prev_hash != head_hash) {
            return Err(ChainError::Truncated {
                last,
                head: head_seq,
            });
        }
        Ok(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(i: i64) -> NewAuditEvent {
        NewAuditEvent {
            actor: "system".into(),
            actor_label: "system".into(),
            action: "user.create".into(),
            object_type: "user".into(),
            object_id: format!("u{i}"),
            before: None,
            after: Some(serde_json::json!({"email": format!("u{i}@example.com")})),
            request_id: None,
        }
    }

    fn chain(n: i64) -> Vec<AuditEvent> {
        let mut out: Vec<AuditEvent> = Vec::new();
        for i in 0..n {
            let (s, h) = out
                .last()
                .map(|e| (e.seq, e.hash.clone()))
                .unwrap_or((0, GENESIS_HASH.into()));
            out.push(AuditEvent::chain(
                ev(i),
                s,
                &h,
                format!("2026-01-01T00:00:0{i}.000000Z"),
            ));
        }
        out
    }

    fn verify(events: &[AuditEvent], head: (i64, &str)) -> Result<i64, ChainError> {
        let mut v = ChainVerifier::default();
        for e in events {
            v.push(e)?;
        }
        v.finish(head.0, head.1)
    }

    #[test]
    fn an_intact_chain_verifies() {
        let c = chain(4);
        assert_eq!(verify(&c, (4, &c[3].hash.clone())), Ok(4));
    }

    #[test]
    fn altering_removing_reordering_or_truncating_names_the_first_bad_event() {
        let c = chain(4);
        let head = (4, c[3].hash.clone());
        let mut altered = c.clone();
        altered[1].after = Some(serde_json::json!({"email": "mallory@example.com"}));
        assert_eq!(
            verify(&altered, (head.0, &head.1)),
            Err(ChainError::Altered { seq: 2 })
        );

        let mut removed = c.clone();
        removed.remove(1);
        assert_eq!(
            verify(&removed, (head.0, &head.1)),
            Err(ChainError::Gap {
                seq: 3,
                expected: 2
            })
        );

        let mut reordered = c.clone();
        reordered.swap(1, 2);
        assert!(matches!(
            verify(&reordered, (head.0, &head.1)),
            Err(ChainError::Gap { seq: 3, .. })
        ));

        // Renumbering after a removal still breaks the link.
        let mut renumbered = c.clone();
        renumbered.remove(1);
        renumbered[1].seq = 2;
        assert_eq!(
            verify(&renumbered, (head.0, &head.1)),
            Err(ChainError::BrokenLink { seq: 2 })
        );

        let truncated = &c[..3];
        assert_eq!(
            verify(truncated, (head.0, &head.1)),
            Err(ChainError::Truncated { last: 3, head: 4 })
        );
    }
}
