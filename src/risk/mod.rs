//! The assess stage: risk checks over the extracted units, one module per check family (as
//! cargo-deny has one folder per check). Each check takes the units and the facts it needs,
//! passed in, and returns [`Signal`]s; checks never call each other and never do I/O. The policy
//! turns signals into judged findings (level per code, `off`, allow-lists).

use crate::graph::NodeId;
use crate::package::Package;
use crate::vocab::{Code, Level};

/// What a check saw in one unit, before the policy judged it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Signal {
    pub code: Code,
    /// The package concerned, when there is one, and its node in the unit's graph when it is in it.
    pub package: Option<Package>,
    pub node: Option<NodeId>,
    /// Where (a zip entry, a file), when it applies.
    pub location: Option<String>,
    pub message: String,
    /// The facts that raised the signal, as (name, value), in a stable order.
    pub evidence: Vec<Evidence>,
    /// The check's default level for this signal; the policy may override it per code.
    pub level: Level,
}

/// One fact behind a signal (`published_by` = `someone`, `previous_publishers` = `a, b`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Evidence {
    pub name: String,
    pub value: String,
}

impl Evidence {
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Evidence {
        Evidence { name: name.into(), value: value.into() }
    }
}

/// For how many packages one signal could be evaluated: "unknown is not clean", so a check
/// whose inputs are missing counts the package as not evaluated, never as passed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Coverage {
    pub code: Code,
    pub evaluated: usize,
    pub total: usize,
    /// Why some were not evaluated (`publisher stripped by the registry mirror`).
    pub reason: Option<String>,
}
