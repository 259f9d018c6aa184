//! Go build information embedded by the Go linker (what `go version -m` prints): Go version,
//! main module and module dependencies with replacements. Format (Go 1.18+, `debug/buildinfo`):
//! the 14-byte magic `\xff Go buildinf:`, pointer size, flags (bit 2: strings inline), padding to
//! 32 bytes, then two uvarint-length-prefixed strings: the Go version and the module info, the
//! latter framed by 16-byte sentinels. The older pointer format (before Go 1.18) is reported as
//! unsupported. Pure: searches the file's bytes, no section parsing needed.

const MAGIC: &[u8] = b"\xff Go buildinf:";
const FLAG_INLINE: u8 = 0x2;
const HEADER_LEN: usize = 32;

/// One module line (`mod`, `dep`) and its replacement (`=>`), as in `go version -m`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoModule {
    pub path: String,
    pub version: String,
    pub sum: Option<String>,
    pub replace: Option<Box<GoModule>>,
}

/// The build information of one Go binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoBuildInfo {
    /// `go1.21.5`
    pub go_version: String,
    /// The main package path (`path` line).
    pub path: Option<String>,
    pub main: Option<GoModule>,
    pub deps: Vec<GoModule>,
}

/// `Ok(None)`: not a Go binary. `Err`: a Go binary whose build info cannot be read.
pub fn parse_go_buildinfo(bytes: &[u8]) -> Result<Option<GoBuildInfo>, String> {
    let mut first_error = None;
    let mut at = 0;
    while let Some(found) = find(bytes.get(at..).unwrap_or_default(), MAGIC) {
        let start = at + found;
        match parse_at(bytes, start) {
            Ok(info) => return Ok(Some(info)),
            Err(e) => first_error = first_error.or(Some(e)),
        }
        at = start + 1;
    }
    first_error.map_or(Ok(None), Err)
}

fn parse_at(bytes: &[u8], start: usize) -> Result<GoBuildInfo, String> {
    let flags = *bytes.get(start + MAGIC.len() + 1).ok_or("truncated Go build info header")?;
    if flags & FLAG_INLINE == 0 {
        return Err("Go binary built before Go 1.18 (pointer-format build info): not supported".to_owned());
    }
    let mut pos = start + HEADER_LEN;
    let version = read_string(bytes, &mut pos)?;
    let modinfo = read_string(bytes, &mut pos)?;
    let modinfo = strip_sentinels(&modinfo);
    let mut info = parse_modinfo(modinfo);
    info.go_version = version;
    Ok(info)
}

fn read_string(bytes: &[u8], pos: &mut usize) -> Result<String, String> {
    let mut len: u64 = 0;
    let mut shift = 0u32;
    loop {
        let byte = *bytes.get(*pos).ok_or("truncated Go build info string length")?;
        *pos += 1;
        len |= u64::from(byte & 0x7f).checked_shl(shift).ok_or("bad varint in Go build info")?;
        if byte & 0x80 == 0 {
            break;
        }
        shift += 7;
        if shift > 63 {
            return Err("bad varint in Go build info".to_owned());
        }
    }
    let len = usize::try_from(len).map_err(|_| "Go build info string too long")?;
    let end = pos.checked_add(len).ok_or("Go build info string too long")?;
    let raw = bytes.get(*pos..end).ok_or("truncated Go build info string")?;
    *pos = end;
    Ok(String::from_utf8_lossy(raw).into_owned())
}

/// Module info is framed by 16-byte sentinels when long enough (Go's `debug/buildinfo`).
fn strip_sentinels(modinfo: &str) -> &str {
    let bytes = modinfo.as_bytes();
    if bytes.len() >= 33 && bytes.get(bytes.len() - 17) == Some(&b'\n') {
        modinfo.get(16..modinfo.len() - 16).unwrap_or(modinfo)
    } else {
        modinfo
    }
}

fn parse_modinfo(text: &str) -> GoBuildInfo {
    let mut info = GoBuildInfo { go_version: String::new(), path: None, main: None, deps: Vec::new() };
    for line in text.lines() {
        let mut fields = line.split('\t');
        let kind = fields.next().unwrap_or_default();
        let mut module = || {
            let path = fields.next().unwrap_or_default().to_owned();
            let version = fields.next().unwrap_or_default().to_owned();
            let sum = fields.next().filter(|s| !s.is_empty()).map(str::to_owned);
            GoModule { path, version, sum, replace: None }
        };
        match kind {
            "path" => info.path = line.split('\t').nth(1).map(str::to_owned),
            "mod" => info.main = Some(module()),
            "dep" => info.deps.push(module()),
            "=>" => {
                let replacement = Some(Box::new(module()));
                if let Some(last) = info.deps.last_mut() {
                    last.replace = replacement;
                } else if let Some(main) = info.main.as_mut() {
                    main.replace = replacement;
                }
            }
            _ => {}
        }
    }
    info
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint_string(out: &mut Vec<u8>, s: &[u8]) {
        let mut n = s.len();
        while n >= 0x80 {
            out.push(u8::try_from(n & 0x7f).unwrap_or(0) | 0x80);
            n >>= 7;
        }
        out.push(u8::try_from(n).unwrap_or(0));
        out.extend_from_slice(s);
    }

    #[test]
    fn inline_format() {
        let mut bytes = b"junk".to_vec();
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&[8, FLAG_INLINE]);
        bytes.resize(4 + HEADER_LEN, 0);
        varint_string(&mut bytes, b"go1.22.1");
        let mut modinfo = vec![b'x'; 16];
        modinfo.extend_from_slice(b"path\tex.com/m\nmod\tex.com/m\t(devel)\t\ndep\tgolang.org/x/text\tv0.3.7\th1:abc=\n=>\tgolang.org/x/text\tv0.3.8\th1:def=\n");
        modinfo.extend_from_slice(&[b'y'; 16]);
        varint_string(&mut bytes, &modinfo);
        let info = parse_go_buildinfo(&bytes).expect("parses").expect("found");
        assert_eq!(info.go_version, "go1.22.1");
        assert_eq!(info.path.as_deref(), Some("ex.com/m"));
        assert_eq!(info.deps.len(), 1);
        let replace = info.deps.first().and_then(|d| d.replace.as_deref()).expect("replace");
        assert_eq!(replace.version, "v0.3.8");
    }

    #[test]
    fn old_format_and_truncation_are_errors_not_panics() {
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&[8, 0]);
        assert!(parse_go_buildinfo(&bytes).is_err());
        let mut cut = MAGIC.to_vec();
        cut.extend_from_slice(&[8, FLAG_INLINE]);
        cut.resize(HEADER_LEN, 0);
        cut.push(200);
        assert!(parse_go_buildinfo(&cut).is_err());
        assert_eq!(parse_go_buildinfo(b"not go"), Ok(None));
    }
}
