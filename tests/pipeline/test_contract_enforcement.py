#!/usr/bin/env python3
"""A pipeline's output is held to its contract, and its SQL to its inputs.

On a copy of the example mesh, each case edits the orders product, applies, runs it, and
checks that the run fails with a reason that names the problem, is recorded as failed, and
leaves the last good data queryable.
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--plexus", required=True)
    plexus = parser.parse_args().plexus
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="plexus-contract-"))
    mesh = tmp / "mesh"
    shutil.copytree(ROOT / "examples/jaffle-mesh", mesh, ignore=shutil.ignore_patterns(".plexus"))
    product = mesh / "domains/orders/orders"
    pipeline = product / "pipeline.yaml"
    contract = next((product / "contracts").glob("*.odcs.yaml"))
    original_pipeline, original_contract = pipeline.read_text(), contract.read_text()

    def px(*args, home="home"):
        return subprocess.run([plexus, "--mesh", str(mesh), "--home", str(tmp / home), *args],
                              capture_output=True, text=True, timeout=120)

    def order_count():
        r = px("query", "--format", "json", "SELECT count(*) AS n FROM orders.orders.orders")
        return json.loads(r.stdout)[0]["n"] if r.returncode == 0 else None

    def case(name, pipeline_text, expect, contract_text=None, home="home"):
        pipeline.write_text(pipeline_text)
        contract.write_text(contract_text or original_contract)
        applied = px("apply", home=home)
        run = px("run", "orders.orders", home=home) if applied.returncode == 0 else applied
        said = run.stdout + run.stderr
        check(f"{name}: refused", run.returncode != 0, said)
        check(f"{name}: the reason names it", expect in said, said)
        check(f"{name}: the last good data stays", order_count() == 600)

    try:
        check("setup: apply", px("apply").returncode == 0)
        check("setup: run", px("run", "--all").returncode == 0)
        check("setup: 600 orders", order_count() == 600)
        sql_start = original_pipeline.index("SELECT")
        head = original_pipeline[:sql_start]
        indent = "      "

        case("missing column", head + "SELECT 1 AS order_id, 2 AS customer_id, "
             "DATE '2020-01-01' AS order_date\n" + indent + "FROM raw_orders\n",
             "lacks column(s) the contract declares: status")
        case("extra column",
             original_pipeline.replace("FROM raw_orders", ", 1 AS secret_extra FROM raw_orders", 1),
             "does not declare: secret_extra")
        case("NULL in a required column",
             head + "SELECT id AS order_id, user_id AS customer_id, CAST(order_date AS DATE) "
             "AS order_date, CAST(NULL AS VARCHAR) AS status\n" + indent + "FROM raw_orders\n",
             "status is required but has NULL in 600 row(s)")
        case("duplicate primary key",
             head + "SELECT 1 AS order_id, user_id AS customer_id, CAST(order_date AS DATE) "
             "AS order_date, status\n" + indent + "FROM raw_orders\n",
             "primary key repeats a value")
        case("reading another domain's product without an input port",
             head + "SELECT customer_id AS order_id, customer_id, DATE '2020-01-01' AS "
             "order_date, 'placed' AS status\n" + indent + "FROM customers.customers.customers\n",
             "may read only its inputs")
        case("a table function in pipeline SQL",
             head + "SELECT * FROM read_csv('/etc/passwd')\n", "read_csv is not allowed")
        case("a type that is not a type name", original_pipeline,
             "is not a type name",
             original_contract.replace("physicalType: VARCHAR",
                                       "physicalType: \"VARCHAR) AS status, (SELECT 1\"", 1),
             # A fresh home: in the first one, apply would refuse the type change as breaking.
             home="home-fresh")
        # Back to the original: the product builds again.
        pipeline.write_text(original_pipeline)
        contract.write_text(original_contract)
        check("restored: apply", px("apply").returncode == 0)
        check("restored: run", px("run", "orders.orders").returncode == 0)
        r = px("show", "orders.orders")
        check("failed runs are recorded with their reason", "failed" in r.stdout, r.stdout)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        sys.exit(summary())


if __name__ == "__main__":
    main()
