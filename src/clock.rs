//! The one clock of the program: `BUNDLEGUARD_NOW` (RFC 3339) pins it, for reproducible reports
//! and tests; otherwise the system time. Code that judges ages calls [`now`], never
//! `Timestamp::now()` directly.

use jiff::Timestamp;

/// The environment variable that pins the clock.
pub const NOW_VAR: &str = "BUNDLEGUARD_NOW";

/// The current time, or the time `BUNDLEGUARD_NOW` pins (an unparsable value is ignored; the CLI
/// validates it up front with [`pinned`]).
pub fn now() -> Timestamp {
    pinned(std::env::var(NOW_VAR).ok().as_deref()).ok().flatten().unwrap_or_else(Timestamp::now)
}

/// Parses a `BUNDLEGUARD_NOW` value: `Ok(None)` when unset or empty, an error naming the variable
/// when it is not RFC 3339.
pub fn pinned(value: Option<&str>) -> Result<Option<Timestamp>, String> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => text
            .parse::<Timestamp>()
            .map(Some)
            .map_err(|e| format!("{NOW_VAR}={text:?}: expected an RFC 3339 time such as 2025-09-08T13:00:00Z: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_values_parse_or_name_the_variable() {
        assert_eq!(pinned(None), Ok(None));
        assert_eq!(pinned(Some(" ")), Ok(None));
        let t = pinned(Some("2025-09-08T13:00:00Z")).unwrap().unwrap();
        assert_eq!(t.to_string(), "2025-09-08T13:00:00Z");
        let err = pinned(Some("yesterday")).unwrap_err();
        assert!(err.starts_with("BUNDLEGUARD_NOW=\"yesterday\""), "{err}");
    }
}
