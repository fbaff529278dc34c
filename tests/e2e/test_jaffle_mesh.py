#!/usr/bin/env python3
"""End-to-end test of the Jaffle Shop example mesh against the real `plexus` binary.

    python3 tests/e2e/test_jaffle_mesh.py --plexus build/plexus

Applies examples/jaffle-mesh into a fresh temporary home, runs every pipeline, queries across
domains and compares every number with a computation done here, independently, from the seed
files (csv and json modules, Decimal for money). Then checks the failure paths a user meets: a
malformed descriptor, a refused query, and a failing pipeline that must leave the previous data
in place. Standard library only. Prints `N passed, M failed` and exits 1 when anything failed.
"""

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MESH = REPO / "examples" / "jaffle-mesh"
CUSTOMERS_CSV = Path("domains/customers/customers/data/customers.csv")
ORDERS_NDJSON = Path("domains/orders/orders/data/orders.ndjson")
PAYMENTS_JSON = Path("domains/payments/payments/data/payments.json")
NOT_KEPT = ("returned", "return_pending")  # statuses left out of lifetime value

CLV_PORT = "marketing.customer_lifetime_value.customer_lifetime_value"
CUSTOMERS_PORT = "customers.customers.customers"
PAYMENTS_PORT = "payments.payments.payments"

# The cross-domain query: marketing's product joined with the customers domain's product.
COUNTRY_SQL = (
    "SELECT c.country, COUNT(*) AS customers, SUM(l.number_of_orders) AS orders, "
    "SUM(l.lifetime_value) AS lifetime_value "
    f"FROM {CLV_PORT} AS l JOIN {CUSTOMERS_PORT} AS c ON c.customer_id = l.customer_id "
    "GROUP BY c.country ORDER BY c.country"
)


class Fatal(Exception):
    """A failed check that later checks of the same scenario depend on."""


class Suite:
    """Runs plexus and records named checks."""

    def __init__(self, plexus):
        self.plexus = plexus
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"ok   - {name}")
        else:
            self.failed += 1
            print(f"FAIL - {name}" + (f": {detail}" if detail else ""))
        return ok

    def require(self, name, ok, detail=""):
        if not self.check(name, ok, detail):
            raise Fatal(name)

    def run(self, mesh, home, *args):
        cmd = [str(self.plexus), "--mesh", str(mesh), "--home", str(home), *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=600)

    def run_ok(self, name, mesh, home, *args):
        proc = self.run(mesh, home, *args)
        self.require(name, proc.returncode == 0, describe(proc))
        return proc

    def query_json(self, name, mesh, home, sql):
        proc = self.run_ok(name, mesh, home, "query", "--format", "json", sql)
        try:
            rows = json.loads(proc.stdout, parse_float=Decimal)
        except ValueError as error:
            self.require(f"{name}: output is JSON", False, f"{error}: {proc.stdout[:300]!r}")
        self.require(f"{name}: output is an array of objects",
                     isinstance(rows, list) and all(isinstance(r, dict) for r in rows),
                     proc.stdout[:300])
        return rows


def describe(proc):
    """One line saying how a plexus invocation ended."""
    return (f"exit {proc.returncode}; stderr: {proc.stderr.strip()[:400]!r}; "
            f"stdout: {proc.stdout.strip()[:200]!r}")


def number(value):
    """A JSON number (or, leniently, its text) as an exact Decimal."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not a number: {value!r}")
    return Decimal(str(value))


# ---- the independent computation ------------------------------------------------------------

def read_seeds(mesh):
    with open(mesh / CUSTOMERS_CSV, newline="", encoding="utf-8") as f:
        customers = list(csv.DictReader(f))
    with open(mesh / ORDERS_NDJSON, encoding="utf-8") as f:
        orders = [json.loads(line) for line in f if line.strip()]
    with open(mesh / PAYMENTS_JSON, encoding="utf-8") as f:
        payments = json.load(f)
    return customers, orders, payments


def expected_clv(mesh):
    """customer_id -> the CLV row the contract promises, computed from the raw seed files."""
    customers, orders, payments = read_seeds(mesh)
    paid = {}  # order id -> sum of its payments, in currency units
    for p in payments:
        paid[int(p["order_id"])] = paid.get(int(p["order_id"]), Decimal(0)) + \
            Decimal(int(p["amount"])) / 100
    clv = {int(c["id"]): {"country": c["country"], "dates": [], "value": Decimal(0)}
           for c in customers}
    for o in orders:
        row = clv[int(o["user_id"])]
        row["dates"].append(o["order_date"])
        if o["status"] not in NOT_KEPT:
            row["value"] += paid.get(int(o["id"]), Decimal(0))
    return {cid: {"customer_id": cid,
                  "first_order_date": min(r["dates"]) if r["dates"] else None,
                  "most_recent_order_date": max(r["dates"]) if r["dates"] else None,
                  "number_of_orders": len(r["dates"]),
                  "lifetime_value": r["value"].quantize(Decimal("0.01")),
                  "country": r["country"]}
            for cid, r in clv.items()}


def expected_by_country(clv):
    by_country = {}
    for row in clv.values():
        agg = by_country.setdefault(row["country"], [0, 0, Decimal(0)])
        agg[0] += 1
        agg[1] += row["number_of_orders"]
        agg[2] += row["lifetime_value"]
    return [{"country": k, "customers": v[0], "orders": v[1], "lifetime_value": v[2]}
            for k, v in sorted(by_country.items())]


# ---- scenarios --------------------------------------------------------------------------------

def happy_path(s, tmp):
    home = tmp / "home"
    s.run_ok("apply the example mesh", MESH, home, "apply")
    s.run_ok("run --all", MESH, home, "run", "--all")
    expected = expected_clv(MESH)

    rows = s.query_json("cross-domain query by country", MESH, home, COUNTRY_SQL)
    want = expected_by_country(expected)
    s.check("by country: one row per country, in order",
            [r.get("country") for r in rows] == [w["country"] for w in want],
            f"got {[r.get('country') for r in rows]}, want {[w['country'] for w in want]}")
    for got, w in zip(rows, want):
        for key in ("customers", "orders", "lifetime_value"):
            s.check(f"by country: {w['country']} {key} = {w[key]}",
                    number(got.get(key)) == w[key], f"got {got.get(key)!r}")
    s.check("by country: totals cover every customer",
            sum(number(r["customers"]) for r in rows) == len(expected))

    clv_rows = s.query_json("query the CLV port", MESH, home,
                            f"SELECT * FROM {CLV_PORT} ORDER BY customer_id")
    s.check("CLV row count equals the number of customers", len(clv_rows) == len(expected),
            f"{len(clv_rows)} rows, {len(expected)} customers")
    check_clv_rows(s, clv_rows, expected)

    proc = s.run_ok("query --format csv", MESH, home, "query", "--format", "csv",
                    f"SELECT count(*) AS n FROM {CUSTOMERS_PORT}")
    s.check("csv: a header row then the rows",
            proc.stdout.strip().splitlines() == ["n", str(len(expected))], repr(proc.stdout))
    refused_queries(s, home)


def check_clv_rows(s, rows, expected):
    mismatches = []
    for row in rows:
        want = expected.get(row.get("customer_id"))
        if want is None:
            mismatches.append(f"unexpected customer {row.get('customer_id')!r}")
            continue
        for key in ("first_order_date", "most_recent_order_date"):
            if row.get(key) != want[key]:
                mismatches.append(f"{want['customer_id']}.{key}: {row.get(key)!r} != {want[key]!r}")
        for key in ("number_of_orders", "lifetime_value"):
            if number(row.get(key)) != want[key]:
                mismatches.append(f"{want['customer_id']}.{key}: {row.get(key)!r} != {want[key]}")
    s.check("every CLV row matches the seed files", not mismatches, "; ".join(mismatches[:5]))
    without = [r for r in rows if r.get("number_of_orders") == 0]
    s.check("customers without orders: 0 orders, 0 value, NULL dates",
            without and all(number(r["lifetime_value"]) == 0 and r["first_order_date"] is None
                            and r["most_recent_order_date"] is None for r in without),
            f"{len(without)} such rows")


def refused_queries(s, home):
    for name, sql in (("INSERT", f"INSERT INTO {CUSTOMERS_PORT} VALUES (1)"),
                      ("read_csv", "SELECT * FROM read_csv('/etc/passwd')")):
        proc = s.run(MESH, home, "query", "--format", "json", sql)
        s.check(f"refused query ({name}) exits 1 with a reason",
                proc.returncode == 1 and proc.stderr.strip() != "", describe(proc))
        s.check(f"refused query ({name}) prints no data", "root:" not in proc.stdout,
                proc.stdout[:200])


def malformed_descriptor(s, tmp):
    mesh = tmp / "malformed"
    shutil.copytree(MESH, mesh)
    product = mesh / "domains/orders/orders/product.odps.yaml"
    lines = product.read_text(encoding="utf-8").splitlines(keepends=True)
    line_no = next(i for i, line in enumerate(lines, 1) if line.startswith("status: active"))
    lines[line_no - 1] = "status: activ\n"
    product.write_text("".join(lines), encoding="utf-8")
    where = f"product.odps.yaml:{line_no}"
    for command in ("validate", "apply"):
        proc = s.run(mesh, tmp / "malformed-home", command)
        s.check(f"malformed descriptor: {command} exits 1", proc.returncode == 1, describe(proc))
        s.check(f"malformed descriptor: {command} names {where} and the field",
                where in proc.stderr and "status" in proc.stderr, proc.stderr.strip()[:400])


def failing_pipeline(s, tmp):
    mesh, home = tmp / "failing", tmp / "failing-home"
    shutil.copytree(MESH, mesh)
    s.run_ok("failing pipeline: apply a copy", mesh, home, "apply")
    s.run_ok("failing pipeline: first run", mesh, home, "run", "--all")
    count_sql = f"SELECT count(*) AS n FROM {PAYMENTS_PORT}"
    before = s.query_json("failing pipeline: count before", mesh, home, count_sql)

    seed = mesh / PAYMENTS_JSON
    payments = json.loads(seed.read_text(encoding="utf-8"))
    payments[1]["id"] = payments[0]["id"]  # the primary key payment_id now repeats
    seed.write_text(json.dumps(payments), encoding="utf-8")
    proc = s.run(mesh, home, "run", "payments.payments")
    s.check("failing pipeline: the run exits non-zero", proc.returncode != 0, describe(proc))
    s.check("failing pipeline: the run says why", proc.stderr.strip() != "", describe(proc))

    after = s.query_json("failing pipeline: count after", mesh, home, count_sql)
    s.check("failing pipeline: the previous data stays, same row count",
            before == after and before and number(before[0]["n"]) == len(payments),
            f"before {before}, after {after}, seed rows {len(payments)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plexus", default=os.environ.get("PLEXUS_BIN", "build/plexus"),
                        help="the plexus binary (default: build/plexus)")
    args = parser.parse_args()
    plexus = Path(args.plexus)
    if not plexus.is_absolute():
        plexus = (Path.cwd() / plexus) if (Path.cwd() / plexus).exists() else REPO / plexus
    suite = Suite(plexus.resolve())
    if not suite.check(f"plexus binary at {plexus}", plexus.is_file() and os.access(plexus, os.X_OK)):
        print(f"{suite.passed} passed, {suite.failed} failed")
        return 1
    with tempfile.TemporaryDirectory(prefix="plexus-e2e-jaffle-") as tmp:
        for scenario in (happy_path, malformed_descriptor, failing_pipeline):
            try:
                scenario(suite, Path(tmp))
            except Fatal as fatal:
                print(f"     ({scenario.__name__} stopped after: {fatal})")
            except (subprocess.TimeoutExpired, OSError, ValueError, KeyError) as error:
                suite.check(f"{scenario.__name__} ran to the end", False, repr(error))
    print(f"{suite.passed} passed, {suite.failed} failed")
    return 1 if suite.failed else 0


if __name__ == "__main__":
    sys.exit(main())
