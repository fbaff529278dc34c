#!/usr/bin/env python3
"""Fails when a module includes a module it may not (STYLE.md: dependencies run one way).

common -> engine -> spec -> catalog -> access -> discovery, governance, pipeline -> observe -> server;
src/cli and
src/tools sit on top. Only src/plexus/engine may include duckdb.h.
"""
import pathlib
import re
import sys

ALLOWED = {
    "common": {"common"},
    "engine": {"common", "engine"},
    "spec": {"common", "spec"},
    "catalog": {"common", "spec", "catalog"},
    "access": {"common", "engine", "spec", "catalog", "access"},
    "discovery": {"common", "engine", "catalog", "access", "discovery"},
    "governance": {"common", "engine", "spec", "catalog", "access", "governance"},
    "pipeline": {"common", "engine", "spec", "catalog", "access", "pipeline"},
    "observe": {"common", "engine", "spec", "catalog", "access", "discovery", "pipeline",
                "observe"},
    "server": {"common", "engine", "spec", "catalog", "access", "discovery", "governance",
               "pipeline", "observe", "server"},
}

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
problems = []
for path in sorted((root / "src").rglob("*")):
    if path.suffix not in (".h", ".cc"):
        continue
    parts = path.relative_to(root / "src").parts
    module = parts[1] if parts[0] == "plexus" and len(parts) > 2 else None
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if re.match(r'\s*#include\s*[<"]duckdb\.h[>"]', line) and module != "engine":
            problems.append(f"{path}:{number}: only src/plexus/engine may include duckdb.h")
        m = re.match(r'\s*#include\s*"plexus/([a-z_]+)/', line)
        if m and module and m.group(1) not in ALLOWED.get(module, set()):
            problems.append(f"{path}:{number}: {module} may not include plexus/{m.group(1)}")
for p in problems:
    print(p)
print(f"{0 if problems else 1} passed, {1 if problems else 0} failed")
sys.exit(1 if problems else 0)
