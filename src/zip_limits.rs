//! Caps on what reading an untrusted zip may cost (entry count, total uncompressed size,
//! compression ratio, size of one read), shared by deployment artifacts (`bundle::artifact`)
//! and advisory databases (`advisory::sync`), so that one zip bomb rule guards both.
//! Sizes are the ones the central directory declares, checked before anything is decompressed;
//! readers must still bound every read, since a declared size can lie.

/// Caps on what reading one zip may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Entries in one zip.
    pub max_entries: usize,
    /// Sum of the declared uncompressed sizes of one zip.
    pub max_total_bytes: u64,
    /// Uncompressed / compressed size of one entry (checked for entries over [`RATIO_FLOOR`]).
    pub max_ratio: u64,
    /// One metadata file (`package.json`, `METADATA`, lockfile, OSV record) read from a zip.
    pub max_metadata_bytes: u64,
    /// One binary (or nested zip) read into memory.
    pub max_binary_bytes: u64,
}

impl Default for Limits {
    /// The limits for deployment artifacts.
    fn default() -> Limits {
        Limits {
            max_entries: 200_000,
            max_total_bytes: 1024 * 1024 * 1024,
            max_ratio: 200,
            max_metadata_bytes: 32 * 1024 * 1024,
            max_binary_bytes: 256 * 1024 * 1024,
        }
    }
}

impl Limits {
    /// The limits for an OSV `all.zip`: many small records. Measured on the shared mirror
    /// (Nov 2026): npm holds 24,685 records, 37 MB uncompressed, at most 9.9 KB and 4:1 each;
    /// PyPI's worst record is 35 KB at 8.7:1. The live npm zip (142 MB) inflates to about
    /// 300 MB, so 1 GiB leaves room to grow while keeping a bomb out of memory.
    pub fn advisory_zip() -> Limits {
        Limits {
            max_entries: 2_000_000,
            max_total_bytes: 1024 * 1024 * 1024,
            max_ratio: 200,
            max_metadata_bytes: 32 * 1024 * 1024,
            max_binary_bytes: 0,
        }
    }
}

/// Entries smaller than this are not ratio-checked (tiny text files compress very well).
pub const RATIO_FLOOR: u64 = 1024 * 1024;

/// Checks a zip's central directory entry by entry against [`Limits`].
#[derive(Debug)]
pub struct Budget<'a> {
    limits: &'a Limits,
    total: u64,
}

impl<'a> Budget<'a> {
    /// Starts the check of a zip with `entries` entries; `Err` says why it is refused.
    pub fn new(limits: &'a Limits, entries: usize) -> Result<Budget<'a>, String> {
        if entries > limits.max_entries {
            return Err(format!("{entries} entries is more than the limit of {}", limits.max_entries));
        }
        Ok(Budget { limits, total: 0 })
    }

    /// Accounts for one entry (declared sizes); `Err` says why the zip is refused.
    pub fn admit(&mut self, name: &str, size: u64, compressed: u64) -> Result<(), String> {
        self.total = self.total.saturating_add(size);
        if self.total > self.limits.max_total_bytes {
            return Err(format!("more than {} bytes uncompressed in total", self.limits.max_total_bytes));
        }
        let ratio = size / compressed.max(1);
        if size > RATIO_FLOOR && ratio > self.limits.max_ratio {
            return Err(format!(
                "{name}: compression ratio {ratio}:1 is above the limit of {}:1",
                self.limits.max_ratio
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_totals_and_ratios_are_refused() {
        let limits = Limits { max_entries: 2, max_total_bytes: 10 << 20, ..Limits::default() };
        assert_eq!(Budget::new(&limits, 3).unwrap_err(), "3 entries is more than the limit of 2");
        let mut budget = Budget::new(&limits, 2).unwrap();
        budget.admit("a", 6 << 20, 3 << 20).unwrap();
        assert_eq!(budget.admit("b", 6 << 20, 3 << 20).unwrap_err(), "more than 10485760 bytes uncompressed in total");
        let mut budget = Budget::new(&limits, 1).unwrap();
        let err = budget.admit("bomb.json", 4 << 20, 1 << 10).unwrap_err();
        assert_eq!(err, "bomb.json: compression ratio 4096:1 is above the limit of 200:1");
        // Small entries are never ratio-checked.
        Budget::new(&limits, 1).unwrap().admit("tiny", 1000, 1).unwrap();
    }
}
