//! Advisories: the OSV wire format (`osv`), the SQLite store (`store`) and the sync from an
//! osv.dev bucket layout (`sync`).

pub mod osv;
pub mod store;
pub mod sync;
