#!/usr/bin/env python3
"""Generates a monorepo of N Lambda function folders for the scan benchmark.

Usage: python3 benches/gen_monorepo.py ../shared/corpus OUT_DIR [N=500]

Every package name and version comes from a real lockfile of the corpus: npm pairs from the
`packages` maps of package-lock.json / npm-shrinkwrap.json files, PyPI pairs from Pipfile.lock
files and pinned requirements. 4 of 5 functions are npm (package.json + package-lock.json v3 with
80-250 packages, a few nested edges), 1 of 5 Python (requirements.txt with 20-60 pins).
Deterministic (seeded), so runs are comparable.
"""
import json, pathlib, random, re, sys


def npm_pairs(corpus):
    pairs = set()
    for lock in list(corpus.rglob("package-lock.json")) + list(corpus.rglob("npm-shrinkwrap.json")):
        try:
            doc = json.loads(lock.read_text(encoding="utf-8"))
        except Exception:
            continue
        for key, entry in (doc.get("packages") or {}).items():
            if "node_modules/" in key and isinstance(entry, dict) and isinstance(entry.get("version"), str):
                name = key.rsplit("node_modules/", 1)[1]
                if re.fullmatch(r"\d+\.\d+\.\d+", entry["version"]) and not entry.get("link"):
                    pairs.add((name, entry["version"]))
    return sorted(pairs)


def pypi_pairs(corpus):
    pairs = set()
    for lock in corpus.rglob("Pipfile.lock"):
        try:
            doc = json.loads(lock.read_text(encoding="utf-8"))
        except Exception:
            continue
        for section in ("default", "develop"):
            for name, entry in (doc.get(section) or {}).items():
                v = entry.get("version", "") if isinstance(entry, dict) else ""
                if v.startswith("=="):
                    pairs.add((name, v[2:]))
    for req in corpus.rglob("requirements*.txt"):
        for line in req.read_text(encoding="utf-8", errors="replace").splitlines():
            m = re.fullmatch(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)==([0-9][0-9A-Za-z.+!-]*)\s*", line)
            if m:
                pairs.add((m.group(1), m.group(2)))
    return sorted(pairs)


def npm_function(rng, pairs, out):
    chosen = {}
    for name, version in rng.sample(pairs, rng.randint(80, 250)):
        chosen.setdefault(name, version)
    names = sorted(chosen)
    direct = names[: max(3, len(names) // 8)]
    packages = {"": {"name": out.name, "version": "1.0.0", "dependencies": {n: chosen[n] for n in direct}}}
    for i, name in enumerate(names):
        entry = {"version": chosen[name], "resolved": f"https://registry.npmjs.org/{name}/-/x.tgz"}
        kids = [k for k in names[i + 1 : i + 4] if k not in direct]
        if kids:
            entry["dependencies"] = {k: chosen[k] for k in kids}
        packages[f"node_modules/{name}"] = entry
    lock = {"name": out.name, "version": "1.0.0", "lockfileVersion": 3, "requires": True, "packages": packages}
    out.mkdir(parents=True, exist_ok=True)
    (out / "package.json").write_text(json.dumps({"name": out.name, "version": "1.0.0", "dependencies": packages[""]["dependencies"]}, indent=2))
    (out / "package-lock.json").write_text(json.dumps(lock, indent=2))


def python_function(rng, pairs, out):
    chosen = {}
    for name, version in rng.sample(pairs, min(len(pairs), rng.randint(20, 60))):
        chosen.setdefault(name.lower(), (name, version))
    out.mkdir(parents=True, exist_ok=True)
    (out / "requirements.txt").write_text("".join(f"{n}=={v}\n" for n, v in sorted(chosen.values())))


def main():
    corpus, dest = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 500
    rng = random.Random(20261124)
    npm, pypi = npm_pairs(corpus), pypi_pairs(corpus)
    for i in range(n):
        out = dest / "functions" / f"fn-{i:03d}"
        if i % 5 == 4:
            python_function(rng, pypi, out)
        else:
            npm_function(rng, npm, out)
    print(f"{n} functions in {dest} from {len(npm)} real npm and {len(pypi)} real PyPI name@version pairs")


if __name__ == "__main__":
    main()
