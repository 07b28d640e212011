//! Vouch's persistence: one store over SQLite (the embedded default) and PostgreSQL (for
//! several instances behind a load balancer).
//!
//! All SQL in Vouch lives in this crate. Queries are plain runtime-bound SQL through sqlx's
//! `Any` driver, written once in the subset both databases understand (see ADR 0002); each
//! database keeps its own migrations folder so the schemas may diverge where they must.
//!
//! Reads are methods on [`Store`]. Every change goes through a [`WriteTx`], which takes the
//! audit-log head lock first and refuses to commit without at least one audit event: a change
//! that is not in the audit log cannot be written through this interface.
#![forbid(unsafe_code)]

mod controls;
mod error;
mod evidence;
mod monitoring;
mod records;
mod resources;
mod store;
mod write;

pub use error::StoreError;
pub use evidence::{EvidenceFilter, IndexedBlob, PurgeCandidate, day_text};
pub use monitoring::{
    EntityEventRecord, ExceptionRecord, MonitoringTable, NotificationRecord, SnapshotRecord,
    SnapshotResource, TestEntityRecord, TestRunRecord,
};
pub use records::*;
pub use resources::{
    AccountLinkRecord, IntegrationRecord, NewResource, ResourceChange, ResourceFilter,
    ResourceRecord, ResourceVersion, RunRecord, SyncPlan, SyncState,
};
pub use store::{Backend, Store};
pub use write::WriteTx;

#[cfg(any(test, feature = "testing"))]
pub mod testing;
