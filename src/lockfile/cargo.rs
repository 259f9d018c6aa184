//! TODO: cargo lockfile parser.

use super::{LockfileError, ParseInput, Parsed};

pub(crate) fn parse_cargo_lock(input: &ParseInput<'_>) -> Result<Parsed, LockfileError> {
    Err(LockfileError::new(input.path, None, "this format is not supported yet"))
}
