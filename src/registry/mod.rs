//! Package metadata from the registries (npm, PyPI, crates.io, Go module proxy), cached in the
//! database: the facts the stale and takeover checks judge ([`facts`]).

pub mod facts;
