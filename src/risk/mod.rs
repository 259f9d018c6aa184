//! The assess stage: risk checks over the extracted units, one module per check family (as
//! cargo-deny has one folder per check). Each check takes the units and the facts it needs,
//! passed in, and returns [`Signal`]s; checks never call each other and never do I/O. The policy
//! turns signals into judged findings (level per code, `off`, allow-lists).

pub mod history;
pub mod hygiene;
pub mod stale;
pub mod takeover;

use crate::graph::NodeId;
use crate::package::Package;
use crate::vocab::{Code, Level};

pub mod unused;

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

pub use crate::vocab::{Coverage, Evidence};

/// A vulnerability from an advisory database.
pub const VULNERABILITY: Code = Code::new("vulnerability/advisory");
/// A package an advisory classifies as malicious (OpenSSF `MAL-` records).
pub const MALICIOUS: Code = Code::new("takeover/malicious");
/// The codes of advisory-backed findings.
pub const ADVISORY_CODES: &[Code] = &[VULNERABILITY, MALICIOUS];
