#!/usr/bin/env python3
"""Builds advisories/: a small, real subset of the shared OSV mirror in the osv.dev bucket layout.

Usage: python3 advisories/build_subset.py ../shared/osv advisories

Selects every record (withdrawn ones included) that affects one of the packages named below
(the packages of the example bundles in ../shared/corpus/bundles plus well-known vulnerable
packages of each ecosystem) and a few records with quirks worth a test. Records are copied
byte for byte; zips are deterministic (entries sorted by id, time = record's `modified`).
"""
import io, json, sys, zipfile, datetime, pathlib

PACKAGES = {
    "npm": ["axios", "lodash", "minimist", "node-fetch", "follow-redirects", "qs", "express",
            "body-parser", "ip", "protobufjs", "semver", "jsonwebtoken", "ws", "path-to-regexp",
            "request", "@cypress/request", "tough-cookie", "xml2js", "minimatch", "json5",
            "babel-traverse", "cookie", "send", "serve-static", "braces", "micromatch"],
    "PyPI": ["requests", "urllib3", "chardet", "idna", "certifi", "pyyaml", "jinja2", "markupsafe",
             "django", "flask", "werkzeug", "aiohttp", "cryptography", "pillow"],
    "Go": ["stdlib", "golang.org/x/net", "golang.org/x/crypto", "golang.org/x/text",
           "github.com/aws/aws-lambda-go", "gopkg.in/yaml.v2", "gopkg.in/yaml.v3",
           "github.com/gin-gonic/gin"],
    "crates.io": ["hyper", "h2", "tokio", "time", "chrono", "openssl", "regex", "smallvec",
                  "rustls", "lambda_runtime", "lambda_http", "idna", "ring", "tracing-subscriber",
                  "rustls-webpki", "url", "crossbeam-channel", "shlex", "bytes"],
}
EXTRA_IDS = {"PYSEC-2025-19", "RUSTSEC-2025-0000"}


def pep503(name):
    import re
    return re.sub(r"[-_.]+", "-", name).lower()


def wanted(eco, record):
    if record["id"] in EXTRA_IDS:
        return True
    names = {pep503(n) if eco == "PyPI" else n for n in PACKAGES[eco]}
    for affected in record.get("affected", []):
        pkg = affected.get("package", {})
        name = pkg.get("name", "")
        if pkg.get("ecosystem") == eco and (pep503(name) if eco == "PyPI" else name) in names:
            return True
    return False


def parse_time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(datetime.timezone.utc)


def csv_time(t):
    # RFC 3339 with trailing zeros of the fraction dropped, as the Go exporter writes it.
    base = t.strftime("%Y-%m-%dT%H:%M:%S")
    if t.microsecond:
        base += ("." + f"{t.microsecond:06d}").rstrip("0")
    return base + "Z"


def main(src, dst):
    src, dst = pathlib.Path(src), pathlib.Path(dst)
    for eco in PACKAGES:
        chosen = []
        with zipfile.ZipFile(src / eco / "all.zip") as zin:
            for info in zin.infolist():
                raw = zin.read(info)
                record = json.loads(raw)
                if wanted(eco, record):
                    chosen.append((record["id"], parse_time(record["modified"]), raw))
        chosen.sort()
        (dst / eco).mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
            for ident, modified, raw in chosen:
                info = zipfile.ZipInfo(f"{ident}.json", date_time=modified.timetuple()[:6] if modified.year >= 1980 else (1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                zout.writestr(info, raw)
        (dst / eco / "all.zip").write_bytes(buf.getvalue())
        rows = sorted(((csv_time(m), i) for i, m, _ in chosen), key=lambda r: (r[0], ""), reverse=True)
        rows.sort(key=lambda r: r[1])
        rows.sort(key=lambda r: r[0], reverse=True)
        (dst / eco / "modified_id.csv").write_text("".join(f"{t},{i}\n" for t, i in rows))
        print(f"{eco}: {len(chosen)} records")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
