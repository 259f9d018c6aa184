#!/usr/bin/env python3
"""Recording cost benchmark (issue 15: recording in the local inventory under 10% of the scan):
whole-process `scan FILE --offline --format json` with the default local record against the same
scan with `--no-inventory`, on the npm shrinkwrap (3,181 packages) and the cargo-lambda
Cargo.lock (734 packages), with a database synced from ../shared/osv.

Usage: python3 benches/record_cost.py [RUNS=15] [BIN...]   (from the repository root; needs
../shared and a release build: `cargo build --release --locked` first). Each BIN (default
target/release/bundleguard; pass an older build too for a before/after figure) gets its own copy
of the database, so a binary that leaves a `-wal` file behind is timed on its own file.

Interleaved: each round runs every (binary, file, mode) once, in the same order. Prints, per
binary and file, the median wall time and the median CPU time (user + sys of the child) with and
without recording, and the difference in ms and %. The first round is a warm-up, not counted.
"""
import os, pathlib, resource, shutil, statistics, subprocess, sys, time

ROOT = pathlib.Path(__file__).resolve().parent.parent
SHARED = pathlib.Path(os.environ.get("BUNDLEGUARD_SHARED", ROOT.parent / "shared"))
FILES = {
    "npm shrinkwrap": "corpus/npm-shrinkwrap/powertools-lambda-typescript-2021-12-root/npm-shrinkwrap.json",
    "cargo-lambda": "corpus/cargo-lock/cargo-lambda-2026-v4/Cargo.lock",
}


def run(cmd):
    """Wall and CPU seconds of one child process (its output discarded; exit 1 is expected)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    code = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if code not in (0, 1, 2):
        sys.exit(f"failed: {' '.join(map(str, cmd))} exited {code}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    bins = [pathlib.Path(b) for b in sys.argv[2:]] or [ROOT / "target" / "release" / "bundleguard"]
    if not (SHARED / "osv").is_dir():
        print("skipped: ../shared/osv not found")
        return
    for b in bins:
        if not b.is_file():
            print(f"skipped: {b} not built (cargo build --release --locked)")
            return
    work = ROOT / "target" / "record-cost"
    work.mkdir(parents=True, exist_ok=True)
    synced = work / "synced.db"
    if not synced.is_file():
        subprocess.run([bins[0], "--db", synced, "sync", "--quiet", "--source", SHARED / "osv"],
                       stdout=subprocess.DEVNULL, check=True)
    dbs = []
    for i, b in enumerate(bins):
        db = work / f"bin{i}.db"
        for suffix in ("", "-wal", "-shm"):
            pathlib.Path(f"{db}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(synced, db)
        dbs.append(db)
    cases = [(i, name, mode) for i in range(len(bins)) for name in FILES for mode in ("record", "no-inventory")]
    times = {c: [] for c in cases}
    for round_ in range(runs + 1):
        for (i, name, mode) in cases:
            cmd = [bins[i], "--db", dbs[i], "scan", SHARED / FILES[name], "--offline", "--format", "json"]
            if mode == "no-inventory":
                cmd.append("--no-inventory")
            t = run(cmd)
            if round_ > 0:
                times[(i, name, mode)].append(t)
    ms = lambda xs: statistics.median(xs) * 1e3
    print(f"interleaved, median of {runs} rounds, whole process, warm file cache")
    for i, b in enumerate(bins):
        print(f"{b}:")
        for name in FILES:
            rec, off = times[(i, name, "record")], times[(i, name, "no-inventory")]
            for label, k in (("wall", 0), ("cpu ", 1)):
                a, z = ms([t[k] for t in rec]), ms([t[k] for t in off])
                print(f"  {name:<15} {label} record {a:7.1f} ms  --no-inventory {z:7.1f} ms  "
                      f"cost {a - z:+6.1f} ms ({(a - z) / z * 100:+5.1f}%)")
        wal = pathlib.Path(f"{dbs[i]}-wal")
        print(f"  -wal left: {wal.stat().st_size if wal.exists() else 'none'} bytes")


if __name__ == "__main__":
    main()
