#!/usr/bin/env python3
"""ODCS quality rules are enforced on every run, and on demand with plexus test.

On a copy of the example mesh: a failing rule of severity error stops the publish (the last good
data stays queryable, row for row) and the run is recorded failed with the rule named and sample
failing rows without sensitive columns; a failing warning rule publishes and is recorded; plexus
test checks the published data, prints each rule, and exits 1 when an error rule fails.
"""
import argparse
import json
import pathlib
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
from checks import check, summary  # noqa: E402


ROOT = pathlib.Path(__file__).resolve().parents[2]
STATUS_RULE = "status is one of the five known values."


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--plexus", required=True)
    plexus = parser.parse_args().plexus
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="plexus-quality-"))
    mesh = tmp / "mesh"
    shutil.copytree(ROOT / "examples/jaffle-mesh", mesh, ignore=shutil.ignore_patterns(".plexus"))
    orders = mesh / "domains/orders/orders"
    orders_contract = orders / "contracts/orders.odcs.yaml"
    orders_pipeline = orders / "pipeline.yaml"
    customers_contract = mesh / "domains/customers/customers/contracts/customers.odcs.yaml"
    original = {p: p.read_text() for p in (orders_contract, orders_pipeline, customers_contract)}

    def px(*args, home="home"):
        return subprocess.run([plexus, "--mesh", str(mesh), "--home", str(tmp / home), *args],
                              capture_output=True, text=True, timeout=120)

    def rows(sql):
        r = px("query", "--format", "json", sql)
        return json.loads(r.stdout) if r.returncode == 0 else None

    def all_orders():
        return rows("SELECT * FROM orders.orders.orders ORDER BY order_id")

    def apply_and_run(product):
        applied = px("apply")
        check(f"apply ({product})", applied.returncode == 0, applied.stderr)
        return px("run", product)

    # Bad data: 'returned' orders come out as 'refunded', which the status rule does not allow;
    # and only 500 of the 600 orders, so a run that publishes shows it.
    bad_orders = original[orders_pipeline].replace(
        "             status\n",
        "             CASE WHEN status = 'returned' THEN 'refunded' ELSE status END AS status\n",
        1).replace("FROM raw_orders", "FROM raw_orders\n      WHERE id <= 500", 1)
    as_warning = original[orders_contract].replace(
        "dimension: conformity\n            severity: error",
        "dimension: conformity\n            severity: warning", 1)

    try:
        # Before any run there is nothing to test.
        check("apply", px("apply").returncode == 0)
        r = px("test", "orders.orders")
        check("test before a run: exit 1", r.returncode == 1, r.stdout + r.stderr)
        check("test before a run: says so", "no published data" in r.stderr, r.stderr)
        r = px("test")
        check("test without a product: usage error (exit 2)", r.returncode == 2, r.stderr)

        r = px("run", "--all")
        check("run --all with the example's rules", r.returncode == 0, r.stdout + r.stderr)
        good = all_orders()
        check("600 orders published", good is not None and len(good) == 600)

        r = px("test", "orders.orders")
        check("test: exit 0 when every rule passes", r.returncode == 0, r.stdout + r.stderr)
        check("test: prints each rule with its status", STATUS_RULE in r.stdout and
              "passed" in r.stdout and "no order before the shop opened" in r.stdout, r.stdout)
        check("test: prints measured value and threshold",
              "0 rows" in r.stdout and "mustBe 0" in r.stdout, r.stdout)
        check("test: summary", "3 passed, 0 failed" in r.stdout, r.stdout)
        r = px("test", "payments.payments")
        check("test: a sql rule passes on the example",
              r.returncode == 0 and "no negative payment" in r.stdout, r.stdout + r.stderr)
        r = px("test", "customers.customers")
        check("test: rowCount, duplicateValues, missingValues pass on the example",
              r.returncode == 0 and "4 passed, 0 failed" in r.stdout, r.stdout + r.stderr)

        # A failing rule of severity error: the run does not publish.
        orders_pipeline.write_text(bad_orders)
        r = apply_and_run("orders.orders")
        said = r.stdout + r.stderr
        check("error rule fails: the run exits 1", r.returncode == 1, said)
        check("error rule fails: the reason names the rule",
              f"quality rule '{STATUS_RULE}'" in said and "invalidValues on status" in said, said)
        check("error rule fails: the reason gives measured and expected",
              "expected mustBe 0" in said and "measured " in said, said)
        check("error rule fails: the last good data stays, row for row", all_orders() == good)
        r = px("show", "orders.orders")
        failed_runs = [line for line in r.stdout.splitlines() if " failed " in line and "run " in line]
        check("error rule fails: the run is recorded failed with the rule named",
              failed_runs and STATUS_RULE in failed_runs[0], r.stdout)
        check("show: the last quality results with failing rows",
              "quality of orders.orders.orders" in r.stdout and "failing rows:" in r.stdout and
              '"status":"refunded"' in r.stdout, r.stdout)
        r = px("test", "orders.orders")
        check("test: the published (good) data passes", r.returncode == 0, r.stdout + r.stderr)

        # The same rule as a warning: the run publishes and records the failure.
        orders_contract.write_text(as_warning)
        r = apply_and_run("orders.orders")
        check("warning rule fails: the run publishes", r.returncode == 0, r.stdout + r.stderr)
        check("warning rule fails: the run says so", "quality warning" in r.stdout and
              STATUS_RULE in r.stdout, r.stdout)
        published = all_orders()
        check("warning rule fails: the new data is served",
              published is not None and len(published) == 500)
        r = px("show", "orders.orders")
        check("warning rule fails: recorded", "failed        warning" in r.stdout and
              "succeeded" in r.stdout, r.stdout)
        r = px("test", "orders.orders")
        check("test: a failing warning rule exits 0", r.returncode == 0, r.stdout + r.stderr)
        check("test: the failing warning rule is printed failed",
              "2 passed, 1 failed" in r.stdout, r.stdout)

        # Back to severity error: plexus test finds the published data failing, publishes nothing.
        orders_contract.write_text(original[orders_contract])
        check("apply (error again)", px("apply").returncode == 0)
        r = px("test", "orders.orders")
        check("test: exit 1 when an error rule fails", r.returncode == 1, r.stdout + r.stderr)
        check("test: the failing rule is printed failed with measured and threshold",
              any(line.strip().startswith("failed") and STATUS_RULE in line and
                  "mustBe 0" in line and " rows" in line
                  for line in r.stdout.splitlines()), r.stdout)
        check("test: stderr names the rule", STATUS_RULE in r.stderr, r.stderr)
        check("test: publishes nothing", all_orders() == published)

        # Samples leave out sensitive columns (email is pii).
        customers_contract.write_text(original[customers_contract].replace(
            "        classification: public\n",
            "        classification: public\n"
            "        quality:\n"
            "          - name: three-letter country codes\n"
            "            metric: invalidValues\n"
            "            arguments:\n"
            "              pattern: '^[A-Z]{3}$'\n"
            "            mustBe: 0\n", 1))
        before = rows("SELECT count(*) AS n FROM customers.customers.customers")
        r = apply_and_run("customers.customers")
        check("error rule on customers: refused", r.returncode == 1, r.stdout + r.stderr)
        check("error rule on customers: the data stays",
              rows("SELECT count(*) AS n FROM customers.customers.customers") == before)
        r = px("show", "customers.customers")
        samples = [line for line in r.stdout.splitlines() if "failing rows:" in line]
        check("samples: kept for the failure", samples and '"country":' in samples[0], r.stdout)
        check("samples: pii and unclassified columns left out",
              samples and "@" not in samples[0] and "email" not in samples[0], samples)

        # Back to the example: everything passes again.
        for path, text in original.items():
            path.write_text(text)
        check("restored: apply", px("apply").returncode == 0)
        r = px("run", "--all")
        check("restored: run --all", r.returncode == 0, r.stdout + r.stderr)
        check("restored: 600 orders", all_orders() == good)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        sys.exit(summary())


if __name__ == "__main__":
    main()
