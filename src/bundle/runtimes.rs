//! AWS Lambda runtime deprecation status, from the table in `data/lambda-runtimes.toml` (AWS
//! Lambda Developer Guide, "Lambda runtimes"; see the file for the source and recording date).

use std::sync::OnceLock;

use jiff::civil::Date;

const TABLE: &str = include_str!("../../data/lambda-runtimes.toml");

/// One row of the runtime table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeInfo {
    pub id: String,
    /// AWS's deprecation date, if one is published.
    pub deprecated: Option<Date>,
    /// The date in the table was recorded without checking the page: verify before relying on it.
    pub uncertain: bool,
}

/// Whether a runtime is past its deprecation date on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeStatus {
    /// Supported, no deprecation date published (or not reached yet: `until`).
    Supported { until: Option<Date>, uncertain: bool },
    /// Past its deprecation date.
    Deprecated { since: Date, uncertain: bool },
    /// Not in the table (a typo, an unresolved variable, or newer than the table).
    Unknown,
}

impl RuntimeStatus {
    /// A short human label: `deprecated since 2024-06-12`, `supported`, `unknown runtime`.
    pub fn label(self) -> String {
        let mark = |uncertain: bool| if uncertain { " (date unverified)" } else { "" };
        match self {
            RuntimeStatus::Supported { until: None, .. } => "supported".to_owned(),
            RuntimeStatus::Supported { until: Some(d), uncertain } => {
                format!("supported until {d}{}", mark(uncertain))
            }
            RuntimeStatus::Deprecated { since, uncertain } => format!("deprecated since {since}{}", mark(uncertain)),
            RuntimeStatus::Unknown => "unknown runtime".to_owned(),
        }
    }
}

#[derive(serde::Deserialize)]
struct TableWire {
    source: String,
    recorded: String,
    runtime: Vec<RowWire>,
}

#[derive(serde::Deserialize)]
struct RowWire {
    id: String,
    deprecated: Option<String>,
    #[serde(default)]
    uncertain: bool,
}

struct Table {
    source: String,
    rows: Vec<RuntimeInfo>,
}

fn table() -> &'static Table {
    static TABLE_CELL: OnceLock<Table> = OnceLock::new();
    TABLE_CELL.get_or_init(|| {
        // The table is compiled in; a broken edit is caught by the unit test below.
        let Ok(wire) = toml::from_str::<TableWire>(TABLE) else {
            return Table { source: String::new(), rows: Vec::new() };
        };
        let rows = wire
            .runtime
            .into_iter()
            .map(|row| RuntimeInfo {
                deprecated: row.deprecated.and_then(|d| d.parse().ok()),
                id: row.id,
                uncertain: row.uncertain,
            })
            .collect();
        Table { source: format!("{} (recorded {})", wire.source, wire.recorded), rows }
    })
}

/// Where the runtime table comes from, and when it was recorded.
pub fn table_source() -> &'static str {
    &table().source
}

/// The table row of a runtime identifier (`nodejs16.x`), if known.
pub fn runtime_info(runtime: &str) -> Option<&'static RuntimeInfo> {
    let runtime = runtime.trim();
    table().rows.iter().find(|row| row.id.eq_ignore_ascii_case(runtime))
}

/// The status of `runtime` on `today`.
pub fn runtime_status(runtime: &str, today: Date) -> RuntimeStatus {
    match runtime_info(runtime) {
        None => RuntimeStatus::Unknown,
        Some(RuntimeInfo { deprecated: Some(since), uncertain, .. }) if *since <= today => {
            RuntimeStatus::Deprecated { since: *since, uncertain: *uncertain }
        }
        Some(info) => RuntimeStatus::Supported { until: info.deprecated, uncertain: info.uncertain },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_parses_and_every_date_is_valid() {
        let wire: TableWire = toml::from_str(TABLE).expect("runtime table parses");
        for row in &wire.runtime {
            if let Some(d) = &row.deprecated {
                assert!(d.parse::<Date>().is_ok(), "{}: bad date {d}", row.id);
            }
        }
        assert!(table().rows.len() > 40);
        assert!(table_source().contains("Lambda runtimes"));
    }

    #[test]
    fn known_dates() {
        let day = |s: &str| s.parse::<Date>().expect("date");
        let today = day("2026-11-24");
        assert_eq!(
            runtime_status("nodejs16.x", today),
            RuntimeStatus::Deprecated { since: day("2024-06-12"), uncertain: false }
        );
        assert_eq!(
            runtime_status("python3.8", today),
            RuntimeStatus::Deprecated { since: day("2024-10-14"), uncertain: false }
        );
        assert_eq!(runtime_status("go1.x", day("2024-01-07")).label(), "supported until 2024-01-08");
        assert_eq!(runtime_status("python3.13", today).label(), "supported");
        assert_eq!(runtime_status("${self:custom.runtime}", today), RuntimeStatus::Unknown);
    }
}
