#!/usr/bin/env python3
"""Warm metadata cache benchmark (issue 10): whole-process `scan` of the generated 500-function
monorepo with a warm registry metadata cache, against the same scan without metadata.

Usage: python3 benches/warm_cache_bench.py [RUNS=9]   (from the repository root; needs
../shared/corpus and target/release/bundleguard: `cargo build --release --locked` first)

1. benches/gen_monorepo.py builds the monorepo; `bundleguard deps --format json` lists its
   (ecosystem, name, version) triples.
2. A local registry on 127.0.0.1 (Python's http.server over a folder of synthesised npm packuments
   and PyPI JSON documents, 12 versions each plus every locked version, with publishers, times,
   maintainers, dependencies; counts the requests it answers) stands in for npm and PyPI.
3. An advisory database synced from the repository's `advisories/` folder is copied twice:
   `plain.db` never holds metadata; `warm.db` is warmed by one online scan against the registry.
4. Interleaved, RUNS times each: (a) `scan --no-metadata` on plain.db (no metadata at all),
   (b) `scan` online on warm.db (every package within the 24 h TTL: no request), (c) `scan
   --no-metadata` on warm.db (cached facts only, as a CI job after `sync --metadata`).
   Median wall times; target: (b) within 10% of (a). Each case is also given against (a) round
   by round (the median of the per-round ratios, with a 90% bootstrap interval): the medians of
   21 rounds move by several percent between runs on a noisy machine, the paired ratio less.

Environment: BIN=path times another binary instead of target/release/bundleguard; COMPARE=path
also times that (older) binary on the same three cases, interleaved in the same rounds (the
before/after of a change in one run); KEEP=dir generates into dir and keeps it (the monorepo,
plain.db, warm.db and the served registry documents, for profiling); the registry server stops
with the script, but case (b) makes no request.
"""
import http.server, json, os, pathlib, random, shutil, statistics, subprocess, sys, tempfile, threading, time

ROOT = pathlib.Path(__file__).resolve().parent.parent
SHARED = pathlib.Path(os.environ.get("BUNDLEGUARD_SHARED", ROOT.parent / "shared"))
BIN = pathlib.Path(os.environ.get("BIN", ROOT / "target" / "release" / "bundleguard"))
COMPARE = os.environ.get("COMPARE")
KEEP = os.environ.get("KEEP")


def release_time(i, fraction=".000"):
    """Version i of a package: one release a month from 2024-01, so the generated history raises no
    takeover signal (no burst, no dormant revival, no fresh release) and the warm-cache scan is timed
    mostly on reading and judging the cached facts. It does raise `stale/outdated` (low, below the
    gate's threshold) where the monorepo locks a package at several versions: the older ones are
    releases behind the newest (3,620 findings on the 500-function monorepo), as in a real one."""
    year, month = 2024 + i // 12, 1 + i % 12
    return f"{year}-{month:02}-15T10:00:00{fraction}Z"


def packument(name, locked):
    versions, times = {}, {"created": "2024-01-01T00:00:00.000Z"}
    listed = [f"0.{i}.0" for i in range(12)] + sorted(locked)
    for i, v in enumerate(listed):
        versions[v] = {
            "name": name, "version": v, "scripts": {"test": "node test"},
            "dependencies": {"dep-0": "^1.0.0"},
            "_npmUser": {"name": "publisher-0", "email": "p@example.invalid"},
            "maintainers": [{"name": "publisher-0", "email": "p@example.invalid"}],
            "dist": {"tarball": f"http://x/{name}-{v}.tgz", "shasum": "0" * 40}, "readme": "x" * 200,
        }
        times[v] = release_time(i)
    return {"_id": name, "name": name, "dist-tags": {"latest": listed[-1]}, "time": times,
            "maintainers": [{"name": "publisher-0"}], "versions": versions}


def pypi_json(name, locked):
    listed = [f"0.{i}.0" for i in range(12)] + sorted(locked)
    releases = {v: [{"filename": f"{name}-{v}.tar.gz", "yanked": False, "yanked_reason": None,
                     "upload_time_iso_8601": release_time(i, ".000000")}]
                for i, v in enumerate(listed)}
    return {"info": {"name": name, "version": listed[-1]}, "releases": releases,
            "ownership": {"roles": [{"role": "Owner", "user": "someone"}]}}


class Counting(http.server.SimpleHTTPRequestHandler):
    requests = 0
    # Headers and body are separate writes: without TCP_NODELAY, Nagle holds the body for the
    # client's delayed ACK (40 ms a response) and the cold scan times the server.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def do_GET(self):
        Counting.requests += 1
        return super().do_GET()


def timed(cmd, env):
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.exit(f"{' '.join(map(str, cmd))}: exit {proc.returncode}: {proc.stderr.decode()[-2000:]}")
    return elapsed, proc.stderr.decode()


def paired(ts, a_times):
    """The case against (a) round by round: both ran back to back in each round, so a burst of
    load on the machine (a 2-core CI machine's scans vary by a third between rounds) hits both.
    The median of the per-round ratios, with a 90% bootstrap interval of that median (fixed seed:
    the same times give the same interval)."""
    if ts is a_times or len(ts) < 5:
        return ""
    ratios = [b / a for a, b in zip(a_times, ts)]
    rng = random.Random(0)
    medians = sorted(statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(2000))
    low, high = medians[len(medians) // 20], medians[-len(medians) // 20 - 1]
    return (f"; paired {100 * (statistics.median(ratios) - 1):+.1f}% "
            f"(90% interval {100 * (low - 1):+.1f}% to {100 * (high - 1):+.1f}%)")


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 9
    if not (SHARED / "corpus").is_dir():
        print("skipped: ../shared/corpus not found")
        return
    if not BIN.is_file():
        sys.exit(f"{BIN} missing: cargo build --release --locked")
    if KEEP:
        work = pathlib.Path(KEEP).resolve()
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
    else:
        work = pathlib.Path(tempfile.mkdtemp(prefix="bg-warm-"))
    mono = work / "mono"
    subprocess.run([sys.executable, ROOT / "benches" / "gen_monorepo.py", SHARED / "corpus", mono, "500"],
                   check=True, stdout=subprocess.DEVNULL)
    deps = json.loads(subprocess.run([BIN, "deps", mono, "--format", "json"], check=True, capture_output=True).stdout)
    locked = {}
    for lock in deps["lockfiles"]:
        for p in lock["packages"]:
            locked.setdefault((p["ecosystem"], p["name"]), set()).add(p["version"])
    served = work / "served"
    for (eco, name), versions in locked.items():
        if eco == "npm":
            path, doc = served / "npm" / name, packument(name, versions)
        elif eco == "PyPI":
            path, doc = served / "pypi" / "pypi" / name / "json", pypi_json(name, versions)
        else:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc))
    handler = lambda *a, **k: Counting(*a, directory=str(served), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"

    env = {k: v for k, v in os.environ.items() if k != "BUNDLEGUARD_NO_METADATA"}
    env.update({"NO_COLOR": "1", "NPM_CONFIG_REGISTRY": f"{url}/npm/", "PIP_INDEX_URL": f"{url}/pypi/simple/",
                "HOME": str(work)})
    plain, warm = work / "plain.db", work / "warm.db"
    subprocess.run([BIN, "--db", plain, "sync", "--quiet", "--source", ROOT / "advisories"], check=True,
                   env=env, stdout=subprocess.DEVNULL)
    shutil.copy(plain, warm)
    scan = ["scan", mono, "--no-inventory", "--format", "json", "--output", "/dev/null"]
    t_cold, err = timed([BIN, "--db", warm, *scan], env)
    print(f"{len(locked)} unique packages; first scan fetching the metadata (cold cache): {t_cold * 1e3:.0f} ms, "
          f"{Counting.requests} requests")
    Counting.requests = 0
    def three(bin_, tag):
        return {
            f"a. scan --no-metadata, no metadata cached{tag}": [bin_, "--db", plain, *scan, "--no-metadata"],
            f"b. scan, warm cache (within TTL){tag}": [bin_, "--db", warm, *scan],
            f"c. scan --no-metadata, warm cache{tag}": [bin_, "--db", warm, *scan, "--no-metadata"],
        }
    cases = three(BIN, "")
    if COMPARE:
        cases.update(three(pathlib.Path(COMPARE), " [COMPARE]"))
    times = {k: [] for k in cases}
    for _ in range(runs):
        for name, cmd in cases.items():
            times[name].append(timed(cmd, env)[0])
    print(f"requests to the registry during the {runs * len(cases)} timed scans: {Counting.requests}")
    for name, ts in times.items():
        a_times = times["a. scan --no-metadata, no metadata cached" + (" [COMPARE]" if "[COMPARE]" in name else "")]
        base = statistics.median(a_times)
        med = statistics.median(ts)
        print(f"{name:<55} median {med * 1e3:7.0f} ms  (min {min(ts) * 1e3:.0f}, max {max(ts) * 1e3:.0f}, "
              f"n={len(ts)})  {100 * (med / base - 1):+.1f}% vs a{paired(ts, a_times)}")
    server.shutdown()
    if KEEP:
        print(f"kept {work}: {mono}, {plain}, {warm}; registry {url} (stopped)")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
