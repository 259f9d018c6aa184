//! bundleguard: finds the Lambda functions of a repository, builds the full dependency tree of
//! each from its lockfiles, and matches every package against a locally synced OSV database.
//! See README.md for use and docs/ARCHITECTURE.md for the architecture.

pub mod advisory;
pub mod bundle;
pub mod cli;
pub mod clock;
pub mod finding;
pub mod graph;
pub mod http;
pub mod inventory;
pub mod lockfile;
pub mod matcher;
pub mod package;
pub mod policy;
pub mod registry;
pub mod report;
pub mod risk;
pub mod scan;
pub mod version;
pub mod vex;
pub mod vocab;
pub mod zip_limits;
