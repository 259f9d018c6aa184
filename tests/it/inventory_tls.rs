//! The PostgreSQL inventory over TLS: a server started by the test with `ssl = on` and a
//! certificate for 127.0.0.1 signed by a CA the test makes (openssl CLI). With `sslmode=require`
//! and that CA named by `PGSSLROOTCERT`, a deploy is recorded and listed over TLS (the server's
//! log says so); trusting another CA, or only the web PKI, fails with a certificate error naming
//! the inventory, and never falls back to plaintext (the server would accept plaintext).

use std::path::Path;
use std::process::Command as StdCommand;

use assert_cmd::cargo::CommandCargoExt as _;
use serde_json::Value;

use crate::common::{fixture, repo_root};
use crate::inventory_pg::PgServer;
use crate::sync::{bundleguard, copy_bucket};

fn openssl(dir: &Path, args: &[&str]) {
    let out = StdCommand::new("openssl").current_dir(dir).args(args).output().unwrap();
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// `<name>-ca.pem` (a self-signed CA) in `dir`.
fn make_ca(dir: &Path, name: &str) {
    openssl(dir, &["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", &format!("{name}-ca.key")]);
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            &format!("{name}-ca.key"),
            "-sha256",
            "-days",
            "2",
            "-subj",
            &format!("/CN=bundleguard test {name} CA"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-out",
            &format!("{name}-ca.pem"),
        ],
    );
}

/// `server.crt` / `server.key` for 127.0.0.1, signed by the `trusted` CA, in `dir`.
fn make_server_cert(dir: &Path) {
    openssl(dir, &["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "server.key"]);
    openssl(dir, &["req", "-new", "-key", "server.key", "-subj", "/CN=127.0.0.1", "-out", "server.csr"]);
    std::fs::write(
        dir.join("server.ext"),
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "trusted-ca.pem",
            "-CAkey",
            "trusted-ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-sha256",
            "-extfile",
            "server.ext",
            "-out",
            "server.crt",
        ],
    );
}

fn with_ca(cmd: &mut StdCommand, ca: Option<&Path>) {
    match ca {
        Some(ca) => cmd.env("PGSSLROOTCERT", ca),
        None => cmd.env_remove("PGSSLROOTCERT"),
    };
}

#[test]
fn an_inventory_over_tls_trusts_the_given_ca_and_nothing_else() {
    if StdCommand::new("openssl").arg("version").output().is_err() {
        #[expect(clippy::print_stdout, reason = "the one line that says a test was skipped")]
        {
            println!("skipped: the openssl CLI is not installed; scripts/test.sh installs it (inventory_tls)");
        }
        return;
    }
    let certs = tempfile::tempdir().unwrap();
    make_ca(certs.path(), "trusted");
    make_ca(certs.path(), "other");
    let Some(server) = PgServer::start_with("tls", |dir| {
        make_server_cert(certs.path());
        let tls = dir.join("tls");
        std::fs::create_dir(&tls).unwrap();
        for f in ["server.crt", "server.key"] {
            std::fs::copy(certs.path().join(f), tls.join(f)).unwrap();
        }
        let mut mode = std::fs::metadata(tls.join("server.key")).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut mode, 0o600);
        std::fs::set_permissions(tls.join("server.key"), mode).unwrap();
        format!(
            "-c ssl=on -c ssl_cert_file={} -c ssl_key_file={} -c log_connections=on",
            tls.join("server.crt").display(),
            tls.join("server.key").display()
        )
    }) else {
        return;
    };
    let url = format!("{}?sslmode=require", server.database("tls"));
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db.sqlite");
    copy_bucket(&repo_root().join("advisories"), &tmp.path().join("bucket"), &["npm", "PyPI", "Go", "crates.io"]);
    let out = bundleguard(&db).args(["sync", "--quiet", "--source"]).arg(tmp.path().join("bucket")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let trusted = certs.path().join("trusted-ca.pem");
    let mut deploy = StdCommand::cargo_bin("bundleguard").unwrap();
    deploy
        .env("BUNDLEGUARD_DB", &db)
        .env_remove("BUNDLEGUARD_INVENTORY")
        .args(["scan", "--offline", "--format", "json", "--record", "deploy", "--inventory", &url])
        .args(["--repository", "org/tls", "--environment", "prod"])
        .arg(fixture("scan/lambda-repo"));
    with_ca(&mut deploy, Some(&trusted));
    let out = deploy.output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("could not be recorded"));

    let list = |ca: Option<&Path>| {
        let mut cmd = bundleguard(&db);
        cmd.args(["inventory", "list", "--format", "json", "--inventory", &url]);
        match ca {
            Some(ca) => cmd.env("PGSSLROOTCERT", ca),
            None => cmd.env_remove("PGSSLROOTCERT"),
        };
        cmd.output().unwrap()
    };
    let out = list(Some(&trusted));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = doc["bundles"].as_array().unwrap().iter().map(|b| b["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["orders-webhook", "report-api"]);
    let log = std::fs::read_to_string(server.data.parent().unwrap().join("server.log")).unwrap();
    assert!(
        log.lines()
            .any(|l| l.contains("connection authorized") && l.contains("database=tls") && l.contains("SSL enabled")),
        "the inventory's connections were not TLS:\n{log}"
    );
    assert!(
        !log.lines()
            .any(|l| l.contains("connection authorized") && l.contains("database=tls") && !l.contains("SSL enabled")),
        "a plaintext connection to the inventory:\n{log}"
    );

    // A server certificate no trusted root signed: a clear error, never plaintext instead.
    for ca in [Some(certs.path().join("other-ca.pem")), None] {
        let out = list(ca.as_deref());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("cannot connect") && stderr.contains("certificate"), "{stderr}");
        assert!(stderr.contains(&format!("postgres://postgres@127.0.0.1:{}/tls", server.port)), "{stderr}");
        assert!(out.stdout.is_empty());
    }
}
