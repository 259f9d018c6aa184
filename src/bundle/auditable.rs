//! Rust binaries: the dependency list that `cargo auditable` embeds in the `.dep-v0` ELF section
//! (zlib-compressed JSON, format of the `auditable-serde` crate: `packages` with `name`,
//! `version`, `source`, `kind`, `dependencies`, `root`). Lambda runs Linux, so only 64-bit
//! little-endian ELF is read; section headers are parsed with bounds checks. A Rust binary
//! without the section (cargo-lambda's default build) is recognized so that it can be reported
//! as unaudited rather than clean.

use std::io::Read as _;

/// Decompressed `.dep-v0` larger than this is refused.
const MAX_JSON_BYTES: u64 = 8 * 1024 * 1024;

#[derive(Debug, serde::Deserialize)]
pub(crate) struct AuditableWire {
    pub packages: Vec<AuditablePackage>,
}

#[derive(Debug, serde::Deserialize)]
pub(crate) struct AuditablePackage {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub dependencies: Vec<usize>,
    #[serde(default)]
    pub root: bool,
}

/// What a binary is, for our purposes.
#[derive(Debug)]
pub(crate) enum RustBinary {
    Audited(AuditableWire),
    /// A Rust binary without cargo-auditable data.
    Unaudited,
    NotRust,
}

pub(crate) fn is_elf(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x7fELF")
}

/// Reads the `.dep-v0` section of an ELF binary, or tells whether it looks like Rust.
pub(crate) fn read(bytes: &[u8]) -> Result<RustBinary, String> {
    if let Some(section) = elf_section(bytes, b".dep-v0")? {
        let mut json = Vec::new();
        flate2::read::ZlibDecoder::new(section)
            .take(MAX_JSON_BYTES + 1)
            .read_to_end(&mut json)
            .map_err(|e| format!(".dep-v0: not zlib data: {e}"))?;
        if json.len() as u64 > MAX_JSON_BYTES {
            return Err(format!(".dep-v0: more than {MAX_JSON_BYTES} bytes once decompressed"));
        }
        let wire = serde_json::from_slice(&json).map_err(|e| format!(".dep-v0: {e}"))?;
        return Ok(RustBinary::Audited(wire));
    }
    let rusty =
        contains(bytes, b"/rustc/") || contains(bytes, b"rust_begin_unwind") || contains(bytes, b".cargo/registry");
    Ok(if rusty { RustBinary::Unaudited } else { RustBinary::NotRust })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn u64_at(b: &[u8], at: usize) -> Option<usize> {
    usize::try_from(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?)).ok()
}

/// The contents of the named section of a 64-bit little-endian ELF file.
fn elf_section<'a>(bytes: &'a [u8], wanted: &[u8]) -> Result<Option<&'a [u8]>, String> {
    // EI_CLASS 2 = 64-bit, EI_DATA 1 = little-endian.
    if bytes.get(4) != Some(&2) || bytes.get(5) != Some(&1) {
        return Ok(None);
    }
    let bad = || "ELF section headers out of bounds".to_owned();
    let shoff = u64_at(bytes, 0x28).ok_or_else(bad)?;
    let shentsize = usize::from(u16_at(bytes, 0x3a).ok_or_else(bad)?);
    let shnum = usize::from(u16_at(bytes, 0x3c).ok_or_else(bad)?);
    let shstrndx = usize::from(u16_at(bytes, 0x3e).ok_or_else(bad)?);
    if shentsize < 64 {
        return Ok(None);
    }
    let header = |i: usize| shoff.checked_add(i.checked_mul(shentsize)?);
    let names_at = header(shstrndx).ok_or_else(bad)?;
    let names_off = u64_at(bytes, names_at + 24).ok_or_else(bad)?;
    for i in 0..shnum {
        let at = header(i).ok_or_else(bad)?;
        let name_idx = usize::try_from(u32_at(bytes, at).ok_or_else(bad)?).map_err(|_| bad())?;
        let name_start = names_off.checked_add(name_idx).ok_or_else(bad)?;
        let name = bytes.get(name_start..).unwrap_or_default();
        let name = name.split(|&c| c == 0).next().unwrap_or_default();
        if name == wanted {
            let offset = u64_at(bytes, at + 24).ok_or_else(bad)?;
            let size = u64_at(bytes, at + 32).ok_or_else(bad)?;
            let end = offset.checked_add(size).ok_or_else(bad)?;
            return bytes.get(offset..end).map(Some).ok_or_else(bad);
        }
    }
    Ok(None)
}
