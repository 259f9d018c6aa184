//! OSV wire types.
