#!/usr/bin/env python3
"""Plexus's verdict on every standards file equals the official JSON schema's (ajv).

For each file of the standards folder (odcs/examples, odcs/negative, odps/examples), the
real-world contracts in src/plexus/spec/testdata/real_world and the cases in
tests/conformance/cases: `plexus validate FILE` (exit 0 / 1) must agree with ajv 8 (draft
2019-09, ajv-formats) run over the official schema by check_schemas.mjs. A refusal must name
file:line. Official examples must be accepted and odcs/negative refused. Every accepted file
must survive `plexus fmt`: the output holds the same JSON value (read by the npm `yaml`
package, independent of yaml-cpp) and gets the same verdict.

Skips (exit 77, with the reason) when the standards folder or the npm packages are missing:
scripts/bootstrap.sh installs the packages pinned in tests/conformance/package-lock.json.
"""
import argparse
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SKIP = 77


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--plexus", required=True)
    p.add_argument("--standards",
                   default=os.environ.get("PLEXUS_STANDARDS_DIR", "/work/shared/standards"))
    p.add_argument("--modules", default=str(ROOT / "third_party/conformance/node_modules"))
    return p.parse_args()


def files_to_check(standards):
    groups = {
        "example": sorted((standards / "odcs/examples").glob("*.yaml"))
        + sorted((standards / "odps/examples").glob("*.yaml")),
        "negative": sorted((standards / "odcs/negative").glob("*.yaml")),
        "real_world": sorted((ROOT / "src/plexus/spec/testdata/real_world").glob("*.yaml")),
        "case": sorted((HERE / "cases").glob("*.yaml")),
    }
    return [(group, f) for group, files in groups.items() for f in files]


def ajv(args, files, pairs=()):
    cmd = ["node", str(HERE / "check_schemas.mjs"), "--standards", args.standards]
    for a, b in pairs:
        cmd += ["--roundtrip", f"{a}={b}"]
    env = dict(os.environ, PLEXUS_CONFORMANCE_MODULES=args.modules)
    out = subprocess.run(cmd + [str(f) for f in files], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        sys.exit(f"check_schemas.mjs failed:\n{out.stderr}")
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def plexus_validate(args, path):
    run = subprocess.run([args.plexus, "validate", str(path)], capture_output=True, text=True)
    return run.returncode, run.stderr


def main():
    args = parse_args()
    standards = pathlib.Path(args.standards)
    if not (standards / "odcs/schema").is_dir():
        print(f"SKIP: standards folder {standards} not found (set PLEXUS_STANDARDS_DIR)")
        return SKIP
    if shutil.which("node") is None or not (pathlib.Path(args.modules) / "ajv").is_dir():
        print(f"SKIP: ajv not installed in {args.modules}: run scripts/bootstrap.sh")
        return SKIP

    files = files_to_check(standards)
    verdicts = {r["file"]: r for r in ajv(args, [f for _, f in files])}
    failures = []
    accepted = []
    for group, path in files:
        schema = verdicts[str(path)]
        code, stderr = plexus_validate(args, path)
        if code not in (0, 1):
            failures.append(f"{path}: plexus validate exited {code}: {stderr.strip()}")
            continue
        ours = code == 0
        name = path.name
        if ours != schema["valid"]:
            failures.append(f"{name}: plexus {'accepts' if ours else 'refuses'}, the JSON schema "
                            f"{'accepts' if schema['valid'] else 'refuses'} "
                            f"({'; '.join(schema['errors'][:2])}) {stderr.strip()[:300]}")
        if group == "example" and not ours:
            failures.append(f"{name}: an official example is refused:\n{stderr}")
        if group == "negative" and ours:
            failures.append(f"{name}: an official invalid example is accepted")
        if not ours and not re.search(re.escape(path.name) + r":\d+:", stderr):
            failures.append(f"{name}: the refusal names no file:line:\n{stderr}")
        if ours:
            accepted.append(path)
        print(f"{'ok  ' if ours == schema['valid'] else 'DIFF'} {group:10} "
              f"{'valid  ' if ours else 'invalid'} {name}")

    failures += check_round_trips(args, accepted)
    for f in failures:
        print("FAIL:", f)
    print(f"{len(files)} files, {len(accepted)} accepted, {len(failures)} failures")
    return 1 if failures else 0


def check_round_trips(args, accepted):
    """Every accepted file, through plexus fmt, holds the same value and stays valid."""
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        pairs = []
        for path in accepted:
            run = subprocess.run([args.plexus, "fmt", str(path)], capture_output=True, text=True)
            if run.returncode != 0:
                failures.append(f"{path.name}: plexus fmt failed: {run.stderr.strip()}")
                continue
            out = pathlib.Path(tmp) / path.name
            out.write_text(run.stdout)
            pairs.append((path, out))
            code, stderr = plexus_validate(args, out)
            if code != 0:
                failures.append(f"{path.name}: formatted, it no longer validates:\n{stderr}")
        results = ajv(args, [b for _, b in pairs], pairs)
        for r in results:
            if "roundtrip" in r and not r["same"]:
                failures.append(f"{r['roundtrip']}: plexus fmt changed its value")
            if "valid" in r and not r["valid"]:
                failures.append(f"{r['file']}: formatted, the JSON schema refuses it")
    print(f"fmt round trip: {len(accepted)} files checked with the npm yaml reader")
    return failures


if __name__ == "__main__":
    sys.exit(main())
