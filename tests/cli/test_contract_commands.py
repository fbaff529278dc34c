#!/usr/bin/env python3
"""plexus fmt and plexus contract export / infer, driven as a user drives them."""
import argparse
import pathlib
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
REAL_WORLD = ROOT / "src/plexus/spec/testdata/real_world"


def run(plexus, *args, cwd):
    return subprocess.run([plexus, *args], capture_output=True, text=True, cwd=cwd)


def check(condition, message, failures):
    if not condition:
        failures.append(message)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--plexus", required=True)
    plexus = str(pathlib.Path(p.parse_args().plexus).resolve())
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        contract = tmp / "customer.odcs.yaml"
        shutil.copy(REAL_WORLD / "collibra_customer.odcs.yaml", contract)
        original = contract.read_text()

        r = run(plexus, "fmt", "--check", contract.name, cwd=tmp)
        check(r.returncode == 1 and "customer.odcs.yaml" in r.stdout,
              f"fmt --check on a quoted-keys file should exit 1 naming it: {r}", failures)
        check(contract.read_text() == original, "fmt --check changed the file", failures)
        printed = run(plexus, "fmt", contract.name, cwd=tmp)
        check(printed.returncode == 0 and printed.stdout.startswith("apiVersion: v3.0.2\n"),
              f"fmt should print the canonical text: {printed}", failures)
        r = run(plexus, "fmt", "--write", contract.name, cwd=tmp)
        check(r.returncode == 0 and contract.read_text() == printed.stdout,
              f"fmt --write should write what fmt prints: {r}", failures)
        r = run(plexus, "fmt", "--check", contract.name, cwd=tmp)
        check(r.returncode == 0, f"after --write, --check should pass: {r}", failures)
        broken = tmp / "broken.odcs.yaml"
        broken.write_text("apiVersion: v3.1.0\nkind: DataContract\nid: x\nversion: 1\n")
        r = run(plexus, "fmt", "--write", broken.name, cwd=tmp)
        check(r.returncode == 1 and "broken.odcs.yaml:1:1: status: required field is missing"
              in r.stderr, f"fmt should refuse an invalid contract with file:line: {r}", failures)

        r = run(plexus, "contract", "export", contract.name, "--format", "postgres", cwd=tmp)
        check(r.returncode == 0 and '"customer_id" numeric(38,0) NOT NULL' in r.stdout,
              f"export --format postgres: {r}", failures)
        r = run(plexus, "contract", "export", contract.name, "--format", "jsonschema", cwd=tmp)
        check(r.returncode == 0 and '"required": [\n    "customer_id"\n  ]' in r.stdout,
              f"export --format jsonschema: {r}", failures)
        r = run(plexus, "contract", "export", contract.name, "--format", "oracle", cwd=tmp)
        check(r.returncode == 2, f"an unknown export format is bad usage: {r}", failures)

        (tmp / "sales.csv").write_text("id,region,amount\n1,eu,2.5\n2,,3\n")
        r = run(plexus, "contract", "infer", "sales.csv", "--id", "sales-v1", cwd=tmp)
        check(r.returncode == 0 and "id: sales-v1\n" in r.stdout
              and "      - name: region\n        physicalType: VARCHAR\n"
                  "        logicalType: string\n      - name: amount" in r.stdout,
              f"infer should draft region as optional VARCHAR: {r}", failures)
        (tmp / "sales.odcs.yaml").write_text(r.stdout)
        v = run(plexus, "validate", "sales.odcs.yaml", cwd=tmp)
        check(v.returncode == 0, f"the drafted contract should validate: {v}", failures)
        r = run(plexus, "contract", "infer", "missing.csv", cwd=tmp)
        check(r.returncode == 1 and "missing.csv" in r.stderr, f"infer of a missing file: {r}",
              failures)
    for f in failures:
        print("FAIL:", f)
    print(f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
