//! TODO: Python lockfile parsers.

use super::{LockfileError, ParseInput, Parsed};

pub(crate) fn parse_requirements(input: &ParseInput<'_>) -> Result<Parsed, LockfileError> {
    Err(LockfileError::new(input.path, None, "this format is not supported yet"))
}

pub(crate) fn parse_poetry(input: &ParseInput<'_>) -> Result<Parsed, LockfileError> {
    Err(LockfileError::new(input.path, None, "this format is not supported yet"))
}

pub(crate) fn parse_pipfile(input: &ParseInput<'_>) -> Result<Parsed, LockfileError> {
    Err(LockfileError::new(input.path, None, "this format is not supported yet"))
}

pub(crate) fn parse_uv(input: &ParseInput<'_>) -> Result<Parsed, LockfileError> {
    Err(LockfileError::new(input.path, None, "this format is not supported yet"))
}

pub(crate) fn parse_pdm(input: &ParseInput<'_>) -> Result<Parsed, LockfileError> {
    Err(LockfileError::new(input.path, None, "this format is not supported yet"))
}
