//! A real PostgreSQL server for the inventory tests and benchmark: `initdb` + `pg_ctl` on a
//! temporary folder, listening on 127.0.0.1 and a free port only, run as `nobody` when we are
//! root (the server refuses root), stopped when dropped. Without the binaries (a fresh clone
//! without Debian's `postgresql` package) it says so on one line and the caller skips.
//! Shared by `tests/it` and `benches/inventory_pg.rs` (which includes this file by path).

use std::path::PathBuf;
use std::process::Command;

pub struct PgServer {
    _dir: tempfile::TempDir,
    /// The data folder; the server's log is `server.log` beside it.
    pub data: PathBuf,
    bin: PathBuf,
    as_nobody: bool,
    pub port: u16,
}

/// The folder of `initdb` and `pg_ctl`: on the PATH, else Debian's newest
/// `/usr/lib/postgresql/<version>/bin`.
fn bin_dir() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .find(|d| d.join("initdb").is_file() && d.join("pg_ctl").is_file());
    on_path.or_else(|| {
        let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(Result::ok)
            .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
            .filter(|(_, bin): &(u32, PathBuf)| bin.join("initdb").is_file())
            .collect();
        versions.sort();
        versions.pop().map(|(_, bin)| bin)
    })
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl PgServer {
    /// Starts a server, or prints one "skipped" line and returns `None` when PostgreSQL is not
    /// installed.
    pub fn start(test: &str) -> Option<PgServer> {
        PgServer::start_with(test, |_| String::new())
    }

    /// [`PgServer::start`] with files of the test's own in the server's folder: `prepare` gets
    /// that folder (before it is handed to `nobody`) and returns extra server options
    /// (`-c ssl=on ...`).
    pub fn start_with(test: &str, prepare: impl FnOnce(&std::path::Path) -> String) -> Option<PgServer> {
        let Some(bin) = bin_dir() else {
            #[expect(clippy::print_stdout, reason = "the one line that says a test was skipped")]
            {
                println!("skipped: PostgreSQL (initdb, pg_ctl) not installed; scripts/test.sh installs it ({test})");
            }
            return None;
        };
        let dir = tempfile::Builder::new().prefix("bundleguard-pg-").tempdir().unwrap();
        let extra = prepare(dir.path());
        let as_nobody = is_root();
        if as_nobody {
            let ok = Command::new("chown").args(["-R", "nobody"]).arg(dir.path()).status().unwrap().success();
            assert!(ok, "chown nobody {}", dir.path().display());
        }
        let data = dir.path().join("data");
        let mut server = PgServer { _dir: dir, data, bin, as_nobody, port: 0 };
        let out = server
            .command("initdb")
            .arg("-D")
            .arg(&server.data)
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"])
            .output()
            .unwrap();
        assert!(out.status.success(), "initdb failed: {}", String::from_utf8_lossy(&out.stderr));
        // A port taken between our probe and the server's bind: try another.
        for _ in 0..5 {
            server.port = free_port();
            let socket_dir = server.data.parent().unwrap().to_owned();
            let options = format!(
                "-h 127.0.0.1 -p {} -k {} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100 {extra}",
                server.port,
                socket_dir.display()
            );
            let log = socket_dir.join("server.log");
            let out = server
                .command("pg_ctl")
                .arg("-D")
                .arg(&server.data)
                .arg("-l")
                .arg(&log)
                .args(["-w", "-t", "60", "-o", &options, "start"])
                .output()
                .unwrap();
            if out.status.success() {
                return Some(server);
            }
        }
        panic!("pg_ctl start failed; see the server log under {}", server.data.display());
    }

    fn command(&self, tool: &str) -> Command {
        let exe = self.bin.join(tool);
        if self.as_nobody {
            let mut c = Command::new("runuser");
            c.args(["-u", "nobody", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        }
    }

    /// A new empty database on this server, as a URL for `--inventory`.
    pub fn database(&self, name: &str) -> String {
        let admin = format!("postgres://postgres@127.0.0.1:{}/postgres?sslmode=disable", self.port);
        let mut client = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
        client.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let _ = self.command("pg_ctl").arg("-D").arg(&self.data).args(["-m", "immediate", "-w", "stop"]).output();
    }
}
