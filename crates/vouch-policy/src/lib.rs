//! Vouch's control-test engine.
//!
//! A test is a folder: a manifest (`test.toml`, [`manifest`]), a Rego policy (`policy.rego`)
//! and fixtures (`fixtures/*.json`, [`fixtures`]). [`library`] loads folders into compiled
//! tests; [`engine::evaluate`] runs one over a [`snapshot::Snapshot`] of resources at a given
//! `now` and returns one result per entity. The policy language is Rego, interpreted
//! in-process by `regorus` (ADR 0013).
//!
//! Pure in the sense that matters (architecture invariant 1): no IO, no network (policies
//! cannot call `http.send`), no wall clock; `now` is an input. The interpreter's execution
//! timer reads a monotonic clock only to stop a runaway policy; it never changes a result.
#![forbid(unsafe_code)]

pub mod engine;
pub mod fixtures;
pub mod library;
pub mod manifest;
pub mod snapshot;

pub use engine::{CompiledTest, ENGINE, EntityResult, Limits, evaluate, results_digest};
pub use library::{Library, LoadedTest};
pub use manifest::{Manifest, TestKind};
pub use snapshot::{InputResource, Snapshot};

include!(concat!(env!("OUT_DIR"), "/shipped.rs"));
