//! Matching packages against advisories.
