//! Advisories: the OSV wire format (`osv`), the SQLite store (`store`), the sync from an
//! osv.dev bucket layout (`sync`), and opening a database fit for a scan (`open`).

pub mod open;
pub mod osv;
pub mod store;
pub mod sync;
