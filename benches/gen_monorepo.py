#!/usr/bin/env python3
"""Generates a monorepo of N Lambda function folders for the scan benchmark.

Usage: python3 benches/gen_monorepo.py ../shared/corpus OUT_DIR [N=500]

Every package name and version comes from a real lockfile of the corpus: npm pairs from the
`packages` maps of package-lock.json / npm-shrinkwrap.json files, PyPI pairs from Pipfile.lock
files and pinned requirements. 4 of 5 functions are npm (package.json + package-lock.json v3 with
80-250 packages, a few nested edges), 1 of 5 Python (requirements.txt with 20-60 pins).
Each function has handler code, for the unused-package check: an npm function a `src/handler.js`
entry, a `src/lib/service.js` and 3-10 `src/lib/step-N.js|ts` modules (40-160 lines each, ESM
imports, `require()` and a dynamic `import()`) that import two thirds of its direct
dependencies; a Python function an `app.py` and 2-6 `helpers/*.py` modules importing half of its
pins (by the distribution's name as a module), some inside functions and `try`. The rest is
declared and never imported.
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
    js_code(rng, direct, out)


JS_BODY = [
    "  const items = (event.items ?? []).filter((x) => x && x.id !== undefined);",
    "  for (const item of items) {",
    "    if (item.amount > limits.max) throw new Error(`amount ${item.amount} over ${limits.max}`);",
    "    totals[item.currency] = (totals[item.currency] ?? 0) + Number(item.amount);",
    "  }",
    "  const key = [event.tenant, event.day, 'summary'].join('/'); // not an import('x')",
    "  const res = await client.send({ op: 'put', key, body: JSON.stringify(totals) });",
    "  if (!res.ok) { log.warn({ key, status: res.status }, 'put failed'); }",
    "  const pattern = /require\\('([^']+)'\\)/g;",
    "  return { statusCode: 200, body: JSON.stringify({ key, count: items.length }) };",
]


def js_ident(name):
    return "m_" + re.sub(r"[^A-Za-z0-9]", "_", name)


def js_code(rng, direct, out):
    used = direct[: max(1, (len(direct) * 2) // 3)]
    steps = rng.randint(3, 10)
    src = out / "src"
    (src / "lib").mkdir(parents=True, exist_ok=True)
    handler = ["import { run } from './lib/service.js';", ""]
    handler += ["export const main = async (event, context) => {", "  return run(event, context);", "};", ""]
    (src / "handler.js").write_text("\n".join(handler))
    service = [f"import {{ step{i} }} from './step-{i}.js';" for i in range(steps)]
    service += ["", "export async function run(event, context) {", "  let acc = { event };"]
    service += [f"  acc = await step{i}(acc, context);" for i in range(steps)]
    service += ["  return acc;", "}", ""]
    (src / "lib" / "service.js").write_text("\n".join(service))
    for i in range(steps):
        mine = used[i::steps]
        lines = []
        for j, name in enumerate(mine):
            if j % 3 == 0:
                lines.append(f"import {js_ident(name)} from '{name}';")
            elif j % 3 == 1:
                lines.append(f"const {js_ident(name)} = require('{name}');")
            else:
                lines.append(f"const {js_ident(name)} = await import('{name}');")
        lines += ["", "const limits = { max: 10000 };", "const totals = {};", "const log = console;", "const client = { send: async () => ({ ok: true }) };", ""]
        lines.append(f"export async function step{i}(event, context) {{")
        for _ in range(rng.randint(4, 16)):
            lines.extend(JS_BODY)
        lines += ["}", ""]
        ext = "ts" if i % 2 else "js"
        (src / "lib" / f"step-{i}.{ext}").write_text("\n".join(lines))


PY_BODY = [
    "    items = [x for x in event.get('items', []) if x and x.get('id') is not None]",
    "    for item in items:",
    "        if item['amount'] > LIMITS['max']:",
    "            raise ValueError(f\"amount {item['amount']} over {LIMITS['max']}\")",
    "        totals[item['currency']] = totals.get(item['currency'], 0) + float(item['amount'])",
    "    key = '/'.join([event['tenant'], event['day'], 'summary'])  # not: import os",
    "    doc = \"\"\"from x import y is text here, not code\"\"\"",
]


def py_code(rng, names, out):
    used = names[: max(1, len(names) // 2)]
    mods = rng.randint(2, 6)
    (out / "helpers").mkdir(parents=True, exist_ok=True)
    (out / "helpers" / "__init__.py").write_text("")
    app = [f"from helpers import step{i}" for i in range(mods)]
    app += ["", "", "def handler(event, context):", "    acc = {'event': event}"]
    app += [f"    acc = step{i}.run(acc)" for i in range(mods)]
    app += ["    return acc", ""]
    (out / "app.py").write_text("\n".join(app))
    for i in range(mods):
        mine = used[i::mods]
        lines = ["import json", "import logging", ""]
        for j, name in enumerate(mine):
            module = re.sub(r"[^A-Za-z0-9]", "_", name).lower()
            lines.append(f"import {module}" if j % 2 == 0 else f"from {module} import api as {module}_api")
        lines += ["", "LIMITS = {'max': 10000}", "totals = {}", "", "", "def run(event):"]
        lines += ["    try:", "        import ujson as fastjson", "    except ImportError:", "        fastjson = json"]
        for _ in range(rng.randint(4, 16)):
            lines.extend(PY_BODY)
        lines += ["    return {'key': key, 'count': len(items)}", ""]
        (out / "helpers" / f"step{i}.py").write_text("\n".join(lines))


def python_function(rng, pairs, out):
    chosen = {}
    for name, version in rng.sample(pairs, min(len(pairs), rng.randint(20, 60))):
        chosen.setdefault(name.lower(), (name, version))
    out.mkdir(parents=True, exist_ok=True)
    (out / "requirements.txt").write_text("".join(f"{n}=={v}\n" for n, v in sorted(chosen.values())))
    py_code(rng, [n for n, _ in sorted(chosen.values())], out)


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
