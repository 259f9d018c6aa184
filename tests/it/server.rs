//! A mock OSV bucket on 127.0.0.1, started by each test that needs one: serves a folder with the
//! bucket layout (`<Ecosystem>/all.zip`, `<Ecosystem>/modified_id.csv`) over HTTP/1.1, answers
//! `If-None-Match` with 304, serves `<Ecosystem>/<ID>.json` out of `all.zip` as the real bucket
//! does, and injects faults on request (5xx bursts, cut connections, slow bodies, stalls,
//! replaced bodies such as an HTML error page, bodies cut without a `Content-Length`, 429 with
//! `Retry-After`). It also serves the registry fixtures (`fixtures/registry/<eco>/<scenario>/`,
//! laid out as the registry's URL paths): a folder answers with its `index.json` or `index.html`
//! (Simple API pages end in `/`), `{{BASE_URL}}` in a body becomes the server's own URL (crates.io
//! `config.json`), and the headers that matter to the registry clients are recorded.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A fault to inject on requests whose path ends with `suffix`.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer with this status for the next `count` matching requests.
    Status { suffix: String, status: u16, count: usize },
    /// Announce the full length but close the connection after `after` bytes, `count` times.
    Cut { suffix: String, after: usize, count: usize },
    /// Send the body in small chunks with a pause between them (to kill a client mid-download).
    Slow { suffix: String, chunk: usize, pause: Duration },
    /// Answer 200 with this body instead (empty, an HTML page, garbage), `count` times.
    Body { suffix: String, body: Vec<u8>, count: usize },
    /// Answer 200 without `Content-Length`, send the first `after` bytes and close: the client
    /// cannot tell the body was cut. `count` times.
    Unbounded { suffix: String, after: usize, count: usize },
    /// Send the headers and the first `after` bytes, then nothing for a minute (every time).
    Stall { suffix: String, after: usize },
    /// Read the request, then answer nothing at all for a minute (every time).
    Silent { suffix: String },
    /// Answer `429 Too Many Requests` with `Retry-After: seconds`, `count` times.
    RetryAfter { suffix: String, seconds: u64, count: usize },
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub path: String,
    pub authorization: Option<String>,
    pub accept: Option<String>,
    pub if_none_match: Option<String>,
}

impl Fault {
    fn suffix(&self) -> &str {
        match self {
            Fault::Status { suffix, .. }
            | Fault::Cut { suffix, .. }
            | Fault::Slow { suffix, .. }
            | Fault::Body { suffix, .. }
            | Fault::Unbounded { suffix, .. }
            | Fault::Stall { suffix, .. }
            | Fault::Silent { suffix }
            | Fault::RetryAfter { suffix, .. } => suffix,
        }
    }
}

#[derive(Default)]
struct State {
    faults: Vec<Fault>,
    log: Vec<String>,
    seen: Vec<Seen>,
}

pub struct MockBucket {
    pub url: String,
    root: Arc<Mutex<PathBuf>>,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl MockBucket {
    pub fn start(root: PathBuf) -> MockBucket {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let url = format!("http://{}", listener.local_addr().expect("local addr"));
        let root = Arc::new(Mutex::new(root));
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, s, st) = (root.clone(), state.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                // The head and the body are two writes: without this, Nagle's algorithm holds the
                // body until the client's delayed ACK (40 ms a response on Linux).
                let _ = stream.set_nodelay(true);
                let (r, s) = (r.clone(), s.clone());
                std::thread::spawn(move || {
                    let _ = serve(&stream, &r, &s);
                });
            }
        });
        MockBucket { url, root, state, stop }
    }

    /// Serves another folder from now on (a newer export of the bucket).
    pub fn set_root(&self, root: impl Into<PathBuf>) {
        *self.root.lock().unwrap() = root.into();
    }

    pub fn add_fault(&self, fault: Fault) {
        self.state.lock().unwrap().faults.push(fault);
    }

    /// `"<status> <path>"` of every request so far.
    pub fn log(&self) -> Vec<String> {
        self.state.lock().unwrap().log.clone()
    }

    pub fn clear_log(&self) {
        let mut state = self.state.lock().unwrap();
        state.log.clear();
        state.seen.clear();
    }

    /// Every request so far, with its registry-relevant headers.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }
}

impl Drop for MockBucket {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.url.trim_start_matches("http://"));
    }
}

fn serve(stream: &TcpStream, root: &Mutex<PathBuf>, state: &Mutex<State>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line)? == 0 {
            return Ok(());
        }
        let path = request_line.split_whitespace().nth(1).unwrap_or("/").to_owned();
        let mut headers = HashMap::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line)?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
            }
        }
        let root = root.lock().unwrap().clone();
        state.lock().unwrap().seen.push(Seen {
            path: path.clone(),
            authorization: headers.get("authorization").cloned(),
            accept: headers.get("accept").cloned(),
            if_none_match: headers.get("if-none-match").cloned(),
        });
        let base = format!("http://{}", stream.local_addr()?);
        let keep_going = respond(stream, &root, &base, state, &path, headers.get("if-none-match"))?;
        if !keep_going {
            return Ok(());
        }
    }
}

fn take_fault(state: &Mutex<State>, path: &str) -> Option<Fault> {
    let mut st = state.lock().unwrap();
    let i = st.faults.iter().position(|f| path.ends_with(f.suffix()))?;
    let fault = st.faults[i].clone();
    match &mut st.faults[i] {
        Fault::Status { count, .. }
        | Fault::Cut { count, .. }
        | Fault::Body { count, .. }
        | Fault::Unbounded { count, .. }
        | Fault::RetryAfter { count, .. } => {
            *count -= 1;
            if *count == 0 {
                st.faults.remove(i);
            }
        }
        Fault::Slow { .. } | Fault::Stall { .. } | Fault::Silent { .. } => {}
    }
    Some(fault)
}

/// Writes one response; returns whether the connection may be reused.
fn respond(
    mut stream: &TcpStream,
    root: &std::path::Path,
    base: &str,
    state: &Mutex<State>,
    path: &str,
    if_none_match: Option<&String>,
) -> std::io::Result<bool> {
    let fault = take_fault(state, path);
    if let Some(Fault::Silent { .. }) = fault {
        state.lock().unwrap().log.push(format!("silent {path}"));
        std::thread::sleep(Duration::from_mins(1));
        return Ok(false);
    }
    let body = load(root, path).map(|(bytes, etag, html)| (with_base(bytes, base), etag, html));
    let html = body.as_ref().is_some_and(|b| b.2);
    let body = body.map(|(bytes, etag, _)| (bytes, etag));
    let status = match (&fault, &body) {
        (Some(Fault::Status { status, .. }), _) => *status,
        (Some(Fault::RetryAfter { .. }), _) => 429,
        (Some(Fault::Body { .. }), _) | (Some(Fault::Unbounded { .. } | Fault::Stall { .. }), Some(_)) => 200,
        (_, None) => 404,
        (_, Some((_, etag))) if if_none_match == Some(etag) => 304,
        _ => 200,
    };
    state.lock().unwrap().log.push(format!("{status} {path}"));
    let (bytes, etag) = match (status, body, &fault) {
        (200, _, Some(Fault::Body { body, .. })) => (body.clone(), String::new()),
        (200, Some(found), _) => found,
        (304, Some((_, etag)), _) => (Vec::new(), etag),
        _ => (Vec::new(), String::new()),
    };
    if let Some(Fault::Unbounded { after, .. }) = fault {
        let head = "HTTP/1.1 200 X\r\nConnection: close\r\n\r\n";
        stream.write_all(head.as_bytes())?;
        stream.write_all(&bytes[..after.min(bytes.len())])?;
        stream.flush()?;
        return Ok(false);
    }
    let mut head = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\n", bytes.len());
    if !etag.is_empty() {
        use std::fmt::Write as _;
        let _ = write!(head, "ETag: {etag}\r\n");
    }
    if let Some(Fault::RetryAfter { seconds, .. }) = &fault {
        use std::fmt::Write as _;
        let _ = write!(head, "Retry-After: {seconds}\r\n");
    }
    if html {
        head.push_str("Content-Type: text/html\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    match fault {
        Some(Fault::Cut { after, .. }) => {
            stream.write_all(&bytes[..after.min(bytes.len())])?;
            stream.flush()?;
            return Ok(false);
        }
        Some(Fault::Stall { after, .. }) => {
            stream.write_all(&bytes[..after.min(bytes.len())])?;
            stream.flush()?;
            std::thread::sleep(Duration::from_mins(1));
            return Ok(false);
        }
        Some(Fault::Slow { chunk, pause, .. }) => {
            for part in bytes.chunks(chunk) {
                stream.write_all(part)?;
                stream.flush()?;
                std::thread::sleep(pause);
            }
        }
        _ => stream.write_all(&bytes)?,
    }
    stream.flush()?;
    Ok(true)
}

/// `{{BASE_URL}}` in a body becomes the server's URL.
fn with_base(bytes: Vec<u8>, base: &str) -> Vec<u8> {
    const MARK: &[u8] = b"{{BASE_URL}}";
    if !bytes.windows(MARK.len()).any(|w| w == MARK) {
        return bytes;
    }
    String::from_utf8_lossy(&bytes).replace("{{BASE_URL}}", base).into_bytes()
}

/// The bytes, ETag and "is HTML" of a path: a file under root, a folder's `index.json` /
/// `index.html`, or `<Eco>/<ID>.json` out of `<Eco>/all.zip`.
fn load(root: &std::path::Path, path: &str) -> Option<(Vec<u8>, String, bool)> {
    let rel = percent_decode(path.trim_start_matches('/'));
    if rel.contains("..") {
        return None;
    }
    let mut file = root.join(&rel);
    if file.is_dir() {
        file = ["index.json", "index.html"].iter().map(|i| file.join(i)).find(|f| f.is_file())?;
    }
    let html = file.extension().is_some_and(|e| e == "html");
    let bytes = if file.is_file() {
        std::fs::read(&file).ok()?
    } else {
        let (eco, name) = rel.rsplit_once('/')?;
        if !std::path::Path::new(name).extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
            return None;
        }
        let zip = std::fs::read(root.join(eco).join("all.zip")).ok()?;
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).ok()?;
        let mut entry = archive.by_name(name).ok()?;
        let mut out = Vec::new();
        entry.read_to_end(&mut out).ok()?;
        out
    };
    let etag = format!("\"{:x}\"", fnv1a(&bytes));
    Some((bytes, etag, html))
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(v) = u8::from_str_radix(s.get(i + 1..i + 3).unwrap_or(""), 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
