//! TODO: npm lockfile parser.

use super::{LockfileError, ParseInput, Parsed};

pub(crate) fn parse_package_lock(input: &ParseInput<'_>) -> Result<Parsed, LockfileError> {
    Err(LockfileError::new(input.path, None, "this format is not supported yet"))
}
