#!/usr/bin/env python3
"""The CLI's contract with scripts: exit codes (0 ok, 1 user error with one line, 2 bad usage),
--help on every subcommand, and `plexus init` giving a mesh that applies, runs and answers."""
import pathlib
import argparse
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
from checks import check, summary  # noqa: E402


COMMANDS = ["init", "validate", "apply", "run", "products", "show", "lineage", "query",
            "serve", "generate"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--plexus", required=True)
    plexus = parser.parse_args().plexus
    tmp = tempfile.mkdtemp(prefix="plexus-cli-")
    try:
        def px(*args):
            return subprocess.run([plexus, *args], capture_output=True, text=True, timeout=120)

        for command in COMMANDS:
            r = px(command, "--help")
            check(f"{command} --help exits 0", r.returncode == 0 and "Usage" in r.stdout, r.stderr)
        r = px()
        check("no subcommand is bad usage (2)", r.returncode == 2, r.returncode)
        r = px("bogus")
        check("unknown subcommand is bad usage (2)", r.returncode == 2, r.returncode)
        r = px("query")
        check("missing argument is bad usage (2)", r.returncode == 2, r.returncode)

        mesh = tmp + "/mesh"
        r = px("init", mesh)
        check("init creates a mesh", r.returncode == 0, r.stderr)
        r = px("init", mesh)
        check("init refuses to overwrite a mesh (1)", r.returncode == 1 and "already" in r.stderr)
        home = ["--mesh", mesh, "--home", tmp + "/home"]
        r = px(*home, "query", "SELECT * FROM sales.daily_revenue.daily_revenue")
        check("query of a port before apply: a user error (1)", r.returncode == 1, r.returncode)
        check("a user error is one line on stderr",
              r.stderr.startswith("plexus: error: ") and r.stderr.count("\n") == 1, r.stderr)
        check("init's mesh applies", px(*home, "apply").returncode == 0)
        check("init's mesh runs", px(*home, "run", "--all").returncode == 0)
        r = px(*home, "query", "--format", "csv",
               "SELECT day, orders, revenue FROM sales.daily_revenue.daily_revenue ORDER BY day")
        check("init's product answers from its seed",
              r.returncode == 0 and r.stdout.splitlines() == [
                  "day,orders,revenue", "2026-01-01,2,25.40", "2026-01-02,1,42.00",
                  "2026-01-03,2,20.35"], r.stdout + r.stderr)
        r = px(*home, "run")
        check("run without products or --all is a user error (1)", r.returncode == 1)
        r = px(*home, "show", "nope.nope")
        check("show of an unknown product names it (1)",
              r.returncode == 1 and "nope.nope" in r.stderr)
        with open(mesh + "/domains/sales/daily_revenue/pipeline.yaml", "a") as f:
            f.write("# edited after apply\n")
        r = px(*home, "run", "sales.daily_revenue")
        check("run refuses a pipeline edited since the last apply",
              r.returncode == 1 and "changed since the last apply" in r.stdout + r.stderr,
              r.stdout + r.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        sys.exit(summary())


if __name__ == "__main__":
    main()
