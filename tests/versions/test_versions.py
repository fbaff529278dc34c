#!/usr/bin/env python3
"""Versions, lifecycle and impact analysis on a copy of the example mesh.

Removing orders.order_date (read by marketing's customer_lifetime_value) without a major bump
is refused, naming the downstream product and columns; with port and contract at 2.0.0 the
apply succeeds and both majors serve; deprecating v1 makes its queries warn; retiring it stops
serving it; a retired version cannot come back and a product cannot go back to draft.
"""
import argparse
import json
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
from checks import check, summary  # noqa: E402


def with_lifecycle(contract_text, item):
    """Adds a customProperties item to a contract: into its list when it has one."""
    marker = "\ncustomProperties:\n"
    if marker in contract_text:
        at = contract_text.index(marker) + len(marker)
        return contract_text[:at] + item + contract_text[at:]
    return contract_text + "customProperties:\n" + item


ROOT = pathlib.Path(__file__).resolve().parents[2]


def without_property(text, name):
    """The contract text without the schema property `name` (its whole block)."""
    start = text.index(f"      - name: {name}\n")
    following = re.compile(r"^      - name: |^  - name: |^[A-Za-z]", re.M).search(text, start + 1)
    end = following.start() if following else len(text)
    return text[:start] + text[end:]


def http_warning(px, tmp, mesh, plexus):
    """Over HTTP, a query of deprecated v1 carries X-Plexus-Warning; one of v2 does not."""
    token = px("token", "issue").stdout.strip()
    server = subprocess.Popen([plexus, "--mesh", str(mesh), "--home", str(tmp / "home"), "serve",
                               "--port", "0", "--pg-port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", server.stdout.readline())
        check("serve starts", match is not None)
        if not match:
            return

        def query(sql):
            req = urllib.request.Request(f"http://127.0.0.1:{match.group(1)}/api/v1/query",
                                         data=json.dumps({"sql": sql}).encode(), method="POST")
            req.add_header("Content-Type", "application/json")
            req.add_header("Authorization", "Bearer " + token)
            with urllib.request.urlopen(req, timeout=30) as resp:
                resp.read()
                return resp.status, resp.headers.get_all("X-Plexus-Warning") or []

        status, warnings = query("SELECT count(*) AS n FROM orders.orders.orders__v1")
        check("HTTP: deprecated v1 answers 200", status == 200, status)
        check("HTTP: X-Plexus-Warning says v1 is deprecated",
              any("orders.orders.orders__v1 is deprecated" in w for w in warnings), warnings)
        status, warnings = query("SELECT count(*) AS n FROM orders.orders.orders")
        check("HTTP: v2 has no warning header", status == 200 and not warnings, warnings)
    finally:
        server.terminate()
        server.wait(timeout=30)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--plexus", required=True)
    plexus = parser.parse_args().plexus
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="plexus-versions-"))
    mesh = tmp / "mesh"
    shutil.copytree(ROOT / "examples/jaffle-mesh", mesh, ignore=shutil.ignore_patterns(".plexus"))
    orders = mesh / "domains/orders/orders"
    contract, product, pipeline = (orders / "contracts/orders.odcs.yaml",
                                   orders / "product.odps.yaml", orders / "pipeline.yaml")

    def px(*args):
        return subprocess.run([plexus, "--mesh", str(mesh), "--home", str(tmp / "home"), *args],
                              capture_output=True, text=True, timeout=120)

    def columns(table):
        r = px("query", "--format", "json", f"SELECT * FROM {table} LIMIT 1")
        return (sorted(json.loads(r.stdout)[0].keys()) if r.returncode == 0 else None), r

    try:
        check("setup: apply", px("apply").returncode == 0)
        check("setup: run", px("run", "--all").returncode == 0)

        # 1. order_date removed, versions unchanged: refused, with the downstream impact.
        contract.write_text(without_property(contract.read_text(), "order_date"))
        pipeline.write_text(pipeline.read_text().replace(
            "             CAST(order_date AS DATE) AS order_date,\n", ""))
        diff = px("diff", "orders.orders")
        said = diff.stdout
        check("diff: exit 0", diff.returncode == 0, diff.stderr)
        check("diff: the removal is breaking",
              re.search(r"breaking\s+orders\.order_date: column removed", said), said)
        check("diff: names the downstream columns",
              "marketing.customer_lifetime_value.customer_lifetime_value: first_order_date, "
              "most_recent_order_date" in said, said)
        applied = px("apply")
        said = applied.stderr
        check("apply without a major bump: exit 1", applied.returncode == 1, said)
        check("apply: names the breaking change", "order_date: column removed" in said, said)
        check("apply: names the downstream product and column",
              "marketing.customer_lifetime_value" in said and "first_order_date" in said, said)
        check("apply: says how to fix it", "2.0.0" in said, said)
        check("apply: nothing was applied", "nothing was applied" in said, said)
        cols, _ = columns("orders.orders.orders")
        check("apply refused: v1 still served with order_date", cols and "order_date" in cols, cols)

        # 2. With the major bump: applied, v2 published beside v1.
        contract.write_text(re.sub(r"^version: .*$", "version: 2.0.0", contract.read_text(),
                                   count=1, flags=re.M))
        product.write_text(product.read_text().replace("    version: 1.0.0\n", "    version: 2.0.0\n"))
        applied = px("apply")
        check("apply with the major bump: exit 0", applied.returncode == 0, applied.stderr)
        run = px("run", "--all")
        check("run publishes v2", run.returncode == 0, run.stdout + run.stderr)
        cols, r = columns("orders.orders.orders")
        check("orders.orders.orders answers from v2",
              cols == ["customer_id", "order_id", "status"], (cols, r.stderr))
        cols, r = columns("orders.orders.orders__v2")
        check("orders.orders.orders__v2 is v2", cols == ["customer_id", "order_id", "status"], cols)
        cols, r = columns("orders.orders.orders__v1")
        check("orders.orders.orders__v1 still answers from v1",
              cols == ["customer_id", "order_date", "order_id", "status"], (cols, r.stderr))
        check("v1 not deprecated yet: no warning", "warning" not in r.stderr, r.stderr)
        listed = px("products").stdout
        check("products lists both majors",
              "orders.orders.orders (600 rows)" in listed and "orders.orders.orders__v1 (600 rows)"
              in listed, listed)
        lineage = px("query", "SELECT count(*) FROM marketing.customer_lifetime_value.customer_lifetime_value")
        check("downstream still served", lineage.returncode == 0, lineage.stderr)

        # 3. Deprecate v1 (customProperties previousMajors in the current contract).
        v2 = contract.read_text()
        lifecycle_item = ("  - property: previousMajors\n    value:\n"
                          "      - major: 1\n        status: {status}\n        endOfLife: 2099-12-31\n")

        contract.write_text(with_lifecycle(v2, lifecycle_item.format(status="deprecated")))
        applied = px("apply")
        check("deprecate v1: applied", applied.returncode == 0, applied.stderr)
        r = px("query", "SELECT count(*) AS n FROM orders.orders.orders__v1")
        check("deprecated v1: still served", r.returncode == 0, r.stderr)
        listed = px("products").stdout
        check("products marks v1 deprecated", "orders.orders.orders__v1 (600 rows, deprecated)" in listed,
              listed)
        check("deprecated v1: the query warns",
              "plexus: warning: orders.orders.orders__v1 is deprecated" in r.stderr, r.stderr)
        check("deprecated v1: the warning says when and where to go",
              "2099-12-31" in r.stderr and "orders.orders.orders (major 2)" in r.stderr, r.stderr)
        r = px("query", "SELECT count(*) AS n FROM orders.orders.orders")
        check("v2: no warning", r.returncode == 0 and "warning" not in r.stderr, r.stderr)
        http_warning(px, tmp, mesh, plexus)

        # 4. Retire v1: no longer served.
        contract.write_text(with_lifecycle(v2, lifecycle_item.format(status="retired")))
        applied = px("apply")
        check("retire v1: applied", applied.returncode == 0, applied.stderr)
        r = px("query", "SELECT count(*) AS n FROM orders.orders.orders__v1")
        check("retired v1: refused, exit 1", r.returncode == 1, r.stdout)
        check("retired v1: says so", "retired and no longer served" in r.stderr, r.stderr)
        check("v2 still served", px("query", "SELECT 1 FROM orders.orders.orders").returncode == 0)
        run = px("run", "marketing.customer_lifetime_value")
        check("a pipeline reading retired v1 is refused", run.returncode != 0 and
              "orders.orders.orders__v1 is retired" in run.stdout + run.stderr, run.stdout + run.stderr)

        # 5. Illegal transitions.
        contract.write_text(with_lifecycle(v2, lifecycle_item.format(status="active")))
        applied = px("apply")
        check("retired -> active: refused", applied.returncode == 1, applied.stdout)
        check("retired -> active: says why",
              "cannot go from retired to active" in applied.stderr, applied.stderr)
        contract.write_text(with_lifecycle(v2, lifecycle_item.format(status="retired")))
        product.write_text(re.sub(r"^status: active$", "status: draft", product.read_text(),
                                  count=1, flags=re.M))
        applied = px("apply")
        check("product active -> draft: refused", applied.returncode == 1, applied.stdout)
        check("product active -> draft: says why",
              "product orders.orders cannot go from active to draft" in applied.stderr,
              applied.stderr)
        r = px("query", "SELECT count(*) AS n FROM orders.orders.orders__v1")
        check("a refused apply changed nothing", "retired" in r.stderr, r.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
