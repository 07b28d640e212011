//! The resources a test reads, converted once into the interpreter's values and shared by
//! every test of an evaluation round (converting a large snapshot per test would cost more
//! than evaluating it).
use regorus::Value;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use vouch_domain::resource::ResourceKind;

/// One resource as a policy sees it, in `input.resources.<kind>`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputResource {
    pub id: i64,
    #[serde(default = "default_system")]
    pub system: String,
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub attrs: serde_json::Map<String, serde_json::Value>,
    /// When the resource was first collected (RFC 3339).
    #[serde(default = "default_first_seen")]
    pub first_seen: String,
    /// When a sync first missed it; `null` while it exists.
    #[serde(default)]
    pub deleted_at: Option<String>,
    /// For accounts: who owns it, `{"type": "person", "person": <email>, "basis": …}`,
    /// `{"type": "service", "note": …}` or `{"type": "unlinked"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<serde_json::Value>,
}

fn default_system() -> String {
    "fixture".to_string()
}

fn default_first_seen() -> String {
    "2026-01-01T00:00:00Z".to_string()
}

/// Every resource of the kinds some test reads, ready for evaluation.
#[derive(Default)]
pub struct Snapshot {
    values: BTreeMap<ResourceKind, Value>,
    kinds: BTreeMap<i64, ResourceKind>,
    counts: BTreeMap<ResourceKind, usize>,
}

impl Snapshot {
    pub fn new(resources: BTreeMap<ResourceKind, Vec<InputResource>>) -> Snapshot {
        let mut s = Snapshot::default();
        for (kind, list) in resources {
            let mut items = Vec::with_capacity(list.len());
            for r in list {
                s.kinds.insert(r.id, kind);
                let mut v = serde_json::to_value(&r).expect("plain data serialises");
                if let Some(o) = v.as_object_mut() {
                    o.insert("kind".into(), kind.as_str().into());
                }
                items.push(Value::from(v));
            }
            s.counts.insert(kind, items.len());
            s.values.insert(kind, Value::from(items));
        }
        s
    }

    /// `input.resources` for a test reading `reads`: each kind's list, empty when nothing of
    /// that kind was collected. Cheap: the lists are shared, not copied.
    pub fn input_for(&self, reads: &[ResourceKind]) -> Value {
        let mut m = BTreeMap::new();
        for k in reads {
            let v = self.values.get(k).cloned().unwrap_or_else(Value::new_array);
            m.insert(Value::from(k.as_str()), v);
        }
        Value::from(m)
    }

    /// The kind of resource `id`, if it is in the snapshot.
    pub fn kind_of(&self, id: i64) -> Option<ResourceKind> {
        self.kinds.get(&id).copied()
    }

    /// How many resources of `kind` it holds.
    pub fn count(&self, kind: ResourceKind) -> usize {
        self.counts.get(&kind).copied().unwrap_or(0)
    }
}
