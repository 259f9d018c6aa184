//! The one integration-test binary: each module tests one command or stage end to end.

mod action;
mod architecture;
mod bundle;
mod common;
mod deps;
mod fixplan;
mod gate;
mod html;
mod inventory;
mod lockfiles;
mod lockfiles_gate;
mod lockfiles_hostile;
mod lockfiles_npm;
mod policy;
mod query;
mod registry;
mod reports;
mod scan;
mod scan_bundles;
mod server;
mod snapshot;
mod sync;
mod sync_faults;
mod unused;
mod vex;
mod walk;
