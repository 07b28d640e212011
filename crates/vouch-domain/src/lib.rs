//! Vouch's plain types and rules.
//!
//! Nothing in this crate does IO or reads a clock: time is always passed in. That keeps the
//! rules (who may do what, how the audit log is chained, what the criteria are) testable as
//! pure functions and lets the same code serve the server, the CLI and offline verification.
#![forbid(unsafe_code)]

pub mod audit;
pub mod control;
pub mod control_io;
pub mod controls;
pub mod criteria;
pub mod evidence;
pub mod freshness;
pub mod monitoring;
pub mod readiness;
pub mod resource;
pub mod role;
pub mod scope;
pub mod time_fmt;
pub mod validate;

pub use audit::{AuditEvent, ChainError, NewAuditEvent};
pub use criteria::{Catalog, Category, Criterion};
pub use role::Role;
