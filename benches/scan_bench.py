#!/usr/bin/env python3
"""Scan benchmark: whole-process wall time and peak memory (best of N runs, warm cache).

Usage: python3 benches/scan_bench.py   (from the repository root; needs ../shared, builds release;
       UNUSED_RUNS sets the alternating runs of the unused on/off comparison, default 11)

1. `scan` of every lockfile under ../shared/corpus with the full synced database;
2. `scan` of a generated monorepo of 500 function folders (benches/gen_monorepo.py), and the same
   scan and one of fixtures/unused with the unused-package check on and off (`[unused] enabled`);
3. side by side with cargo-audit on ../shared/corpus/cargo-lock/cargo-lambda-2026-v4/Cargo.lock,
   against ../shared/peers/rustsec-advisory-db: time ratio and the RUSTSEC ids each reports.
Targets: corpus < 1 s, 500 functions < 5 s, peak memory < 300 MB, a third of cargo-audit's time.
"""
import json, os, pathlib, shutil, statistics, subprocess, sys, tempfile, time

ROOT = pathlib.Path(__file__).resolve().parent.parent
SHARED = pathlib.Path(os.environ.get("BUNDLEGUARD_SHARED", ROOT.parent / "shared"))
BIN = ROOT / "target" / "release" / "bundleguard"


def run(cmd, runs=5):
    """Best wall time (s) and the largest peak RSS (MB) over `runs` runs of cmd."""
    best, peak, out = float("inf"), 0, None
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        stdout = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        best = min(best, time.perf_counter() - start)
        peak = max(peak, usage.ru_maxrss / 1024)
        out = stdout
    return best, peak, out


def main():
    if not (SHARED / "osv").is_dir():
        print("skipped: ../shared not found")
        return
    subprocess.run(["cargo", "build", "--release", "-q"], cwd=ROOT, check=True)
    work = pathlib.Path(tempfile.mkdtemp())
    db = work / "full.db"
    subprocess.run([BIN, "--db", db, "sync", "--quiet", "--source", SHARED / "osv"], check=True, stdout=subprocess.DEVNULL)

    t, m, _ = run([BIN, "--db", db, "scan", SHARED / "corpus", "--offline", "--format", "json", "--output", "/dev/null"])
    print(f"scan ../shared/corpus (every lockfile): {t * 1000:.0f} ms, peak {m:.0f} MB")

    subprocess.run([sys.executable, ROOT / "benches" / "gen_monorepo.py", SHARED / "corpus", work / "mono", "500"], check=True)
    t, m, _ = run([BIN, "--db", db, "scan", work / "mono", "--offline", "--format", "json", "--output", "/dev/null"])
    print(f"scan generated monorepo (500 functions): {t * 1000:.0f} ms, peak {m:.0f} MB")

    # The unused-package check (issue 11): the same scans with `[unused] enabled = false`.
    # Target: the check adds less than 20% to the whole scan. Each mode records into its own copy of
    # the database (a scan after one with the other setting would also pay for adding or deleting the
    # recorded unused findings), after one warm-up scan; the runs alternate and the medians compare.
    off = work / "unused-off.toml"
    off.write_text("[unused]\nenabled = false\n")
    on_cfg = work / "unused-on.toml"
    on_cfg.write_text("")
    runs = int(os.environ.get("UNUSED_RUNS", "11"))
    for label, target in [("fixtures/unused", ROOT / "fixtures" / "unused"), ("generated monorepo (500 functions)", work / "mono")]:
        times = {"on": [], "off": []}
        peaks = {"on": 0.0, "off": 0.0}
        for mode, cfg in [("on", on_cfg), ("off", off)]:
            shutil.copy(db, work / f"unused-{mode}.db")
        for i in range(runs + 1):
            for mode, cfg in [("on", on_cfg), ("off", off)]:
                cmd = [BIN, "--db", work / f"unused-{mode}.db", "scan", target, "--offline", "--format", "json", "--output", "/dev/null", "--config", cfg]
                t, m, _ = run(cmd, runs=1)
                if i:
                    times[mode].append(t)
                    peaks[mode] = max(peaks[mode], m)
        t_on, t_off = statistics.median(times["on"]), statistics.median(times["off"])
        print(f"unused check on vs off, {label}: {t_on * 1000:.0f} ms vs {t_off * 1000:.0f} ms ({(t_on / t_off - 1) * 100:+.1f}%; medians of {runs} alternating runs), peak {peaks['on']:.0f} vs {peaks['off']:.0f} MB")

    lock = SHARED / "corpus" / "cargo-lock" / "cargo-lambda-2026-v4" / "Cargo.lock"
    t_bg, m_bg, out = run([BIN, "--db", db, "scan", lock, "--offline", "--format", "json"], runs=20)
    ours = set()
    for bundle in json.loads(out)["bundles"]:
        for f in bundle["findings"]:
            ours.update(i for i in [f["id"], *f["aliases"]] if i.startswith("RUSTSEC-"))
    print(f"bundleguard on cargo-lambda Cargo.lock (734 packages, all four ecosystems in the DB; recording in the inventory, as `scan` does by default: benches/peer_cargo_audit.rs times it with --no-inventory): {t_bg * 1000:.1f} ms, peak {m_bg:.0f} MB, {len(ours)} RUSTSEC advisories")
    audit = shutil.which("cargo-audit")
    if not audit:
        print("cargo-audit not installed (cargo install cargo-audit --locked): no side-by-side figure")
        return
    cmd = [audit, "audit", "--db", SHARED / "peers" / "rustsec-advisory-db", "--no-fetch", "--stale", "--no-yanked", "--json", "-f", lock]
    t_ca, m_ca, out = run(cmd, runs=20)
    doc = json.loads(out)
    theirs_vulns = {v["advisory"]["id"] for v in doc["vulnerabilities"]["list"]}
    theirs_warn = {w["advisory"]["id"] for ws in doc.get("warnings", {}).values() for w in ws if w.get("advisory")}
    print(f"cargo-audit on the same file: {t_ca * 1000:.1f} ms, peak {m_ca:.0f} MB, {len(theirs_vulns)} vulnerabilities + {len(theirs_warn)} informational")
    print(f"time ratio bundleguard / cargo-audit: {t_bg / t_ca:.2f}")
    theirs = theirs_vulns | theirs_warn
    print(f"RUSTSEC ids: same {len(ours & theirs)}, only bundleguard {sorted(ours - theirs)}, only cargo-audit {sorted(theirs - ours)}")


if __name__ == "__main__":
    main()
