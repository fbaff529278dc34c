#!/usr/bin/env python3
"""A lookup on a CDC output, end to end through the real binary (docs/cdc.md, "Processor steps").

sales.orders applies change files (a files CDC input) through two lookups: crm's published
customers port (an input port, read as the sales domain's service principal) brings each
order's country, and a CSV file input of the product brings the country's region. `plexus run`
and `plexus query` show the looked-up columns (NULL without a match); a delete whose `before`
holds only the key still deletes; a later change of a lookup input leaves the rows applied
before as they were and enriches the next changes, and `plexus run --full-refresh` re-applies
every change with the lookup inputs as they are now; a key repeated in a lookup input
dead-letters the changes that meet it (the run goes on, the other events are applied, nothing
is repeated); `plexus lineage --column` traces the looked-up column to crm's column.
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
from cdc_support import contract  # noqa: E402

CUSTOMERS_CONTRACT = "5b0e7c2a-1f3d-4e6a-9b8c-2d4f6a8b0c1e"
ORDERS_CONTRACT = "8c1d3e5f-7a9b-4c2d-8e0f-1a3b5c7d9e2f"


def product(product_id, name, domain, owner, ports, inputs=""):
    return f"""apiVersion: v1.0.0
kind: DataProduct
id: {product_id}
name: {name}
version: 1.0.0
status: active
domain: {domain}
description:
  purpose: The {name} of domain {domain}.
{inputs}outputPorts:
  - name: {ports[0]}
    type: tables
    version: 1.0.0
    contractId: {ports[1]}
team:
  name: {domain}
  members:
    - username: {owner}
      role: owner
"""


FILES = {
    "mesh.yaml": "apiVersion: plexus/v1\nkind: Mesh\nname: cdc-lookup\n"
                 "description: Change streams enriched by lookups.\npolicies: []\n",
    "domains/crm/domain.yaml": "apiVersion: plexus/v1\nkind: Domain\nname: crm\n"
                               "description: Customers.\nowners: [alice]\nmembers: [alice]\n",
    "domains/crm/customers/product.odps.yaml": product(
        "2e4a6c8e-0b1d-4f3a-8c5e-7a9b1d3f5e70", "customers", "crm", "alice",
        ("customers", CUSTOMERS_CONTRACT)),
    "domains/crm/customers/contracts/customers.odcs.yaml": contract(
        CUSTOMERS_CONTRACT, "1.0.0",
        [("customer_id", "BIGINT", "integer", True), ("country", "VARCHAR", "string", False)],
        "One row per customer.", domain="crm", product="customers", table="customers",
        row="customer"),
    "domains/crm/customers/data/customers.csv": "customer_id,country\n1,FR\n2,DE\n",
    "domains/crm/customers/pipeline.yaml": """apiVersion: plexus/v1
kind: Pipeline
inputs:
  - name: raw
    file: data/customers.csv
outputs:
  - port: customers
    from: raw
""",
    "domains/sales/domain.yaml": "apiVersion: plexus/v1\nkind: Domain\nname: sales\n"
                                 "description: Orders.\nowners: [sam]\nmembers: [sam]\n",
    "domains/sales/orders/product.odps.yaml": product(
        "4f6b8d0f-2c3e-4a5b-9d7f-9b1c3e5a7d81", "orders", "sales", "sam",
        ("orders", ORDERS_CONTRACT),
        f"inputPorts:\n  - name: customers\n    version: 1.0.0\n"
        f"    contractId: {CUSTOMERS_CONTRACT}\n"),
    "domains/sales/orders/contracts/orders.odcs.yaml": contract(
        ORDERS_CONTRACT, "1.0.0",
        [("order_id", "BIGINT", "integer", True), ("customer_id", "BIGINT", "integer", False),
         ("amount", "BIGINT", "integer", False), ("country", "VARCHAR", "string", False),
         ("region", "VARCHAR", "string", False)], "One row per order."),
    "domains/sales/orders/data/regions.csv": "country,region\nFR,eu\nDE,eu\nUS,amer\n",
    "domains/sales/orders/pipeline.yaml": """apiVersion: plexus/v1
kind: Pipeline
inputs:
  - name: changes
    cdc:
      source: files
      folder: changes
      maxErrorRate: 0.5
  - name: customers
    inputPort: customers
  - name: regions
    file: data/regions.csv
outputs:
  - port: orders
    from: changes
    steps:
      - lookup: {input: customers, on: customer_id, columns: [country]}
      - lookup: {input: regions, on: country, columns: [region]}
""",
}


def event(op, order_id, customer_id, amount, lsn):
    row = {"order_id": order_id, "customer_id": customer_id, "amount": amount}
    return json.dumps({"op": op, "before": {"order_id": order_id} if op == "d" else None,
                       "after": None if op == "d" else row, "source": {"lsn": lsn},
                       "ts_ms": 1700000000000 + lsn}) + "\n"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--plexus", required=True)
    plexus = str(pathlib.Path(parser.parse_args().plexus).resolve())
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="plexus-cdc-lookup-"))
    mesh = tmp / "mesh"
    for rel, text in FILES.items():
        (mesh / rel).parent.mkdir(parents=True, exist_ok=True)
        (mesh / rel).write_text(text)
    orders_dir = mesh / "domains/sales/orders"
    changes = orders_dir / "changes"
    changes.mkdir()

    def px(*args):
        return subprocess.run([plexus, "--mesh", str(mesh), "--home", str(tmp / "home"), *args],
                              capture_output=True, text=True, timeout=120)

    def rows():
        r = px("query", "--format", "json", "SELECT order_id, customer_id, amount, country, "
               "region FROM sales.orders.orders ORDER BY order_id")
        if r.returncode != 0:
            return r.stdout + r.stderr
        return [[x["order_id"], x["customer_id"], x["amount"], x["country"], x["region"]]
                for x in json.loads(r.stdout)]

    try:
        r = px("apply")
        check("apply accepts lookups (an input port and a file input) on a CDC output",
              r.returncode == 0, r.stdout + r.stderr)
        (changes / "001.ndjson").write_text(
            event("c", 1, 1, 10, 1) + event("c", 2, 2, 20, 2) + event("c", 3, 9, 30, 3) +
            event("u", 1, 1, 11, 4))
        r = px("run", "--all")
        check("plexus run builds crm.customers, then applies the changes through the lookups",
              r.returncode == 0 and "ok      sales.orders" in r.stdout, r.stdout + r.stderr)
        check("each change is enriched with the lookups' rows; no match gives NULLs",
              rows() == [[1, 1, 11, "FR", "eu"], [2, 2, 20, "DE", "eu"],
                         [3, 9, 30, None, None]], rows())

        # The lookup inputs change: crm moves customer 2 to the US.
        (mesh / "domains/crm/customers/data/customers.csv").write_text(
            "customer_id,country\n1,FR\n2,US\n")
        r = px("run", "crm.customers")
        check("crm.customers publishes its new rows", r.returncode == 0, r.stdout + r.stderr)
        (changes / "002.ndjson").write_text(event("c", 4, 2, 40, 5) + event("d", 1, 0, 0, 6))
        r = px("run", "sales.orders")
        check("the next changes are applied", r.returncode == 0, r.stdout + r.stderr)
        check("a delete whose before holds only the key deletes; rows applied before keep "
              "their looked-up values; a new change gets the lookup's current rows",
              rows() == [[2, 2, 20, "DE", "eu"], [3, 9, 30, None, None],
                         [4, 2, 40, "US", "amer"]], rows())
        r = px("run", "sales.orders", "--full-refresh")
        check("a full refresh re-applies every change with the lookup inputs as they are now",
              r.returncode == 0 and rows() == [[2, 2, 20, "US", "amer"], [3, 9, 30, None, None],
                                               [4, 2, 40, "US", "amer"]],
              r.stdout + r.stderr + str(rows()))

        # A key repeated in a lookup input: the changes that meet it are dead-lettered.
        (orders_dir / "data/regions.csv").write_text(
            "country,region\nFR,eu\nFR,emea\nDE,eu\nUS,amer\n")
        (changes / "003.ndjson").write_text(
            event("c", 5, 1, 50, 7) + event("c", 6, 9, 60, 8) + event("u", 4, 2, 41, 9))
        r = px("run", "sales.orders")
        check("a key repeated in a lookup input does not stop the stream",
              r.returncode == 0 and "ok      sales.orders" in r.stdout, r.stdout + r.stderr)
        check("the change that meets it is not applied (nor repeated); the others are",
              rows() == [[2, 2, 20, "US", "amer"], [3, 9, 30, None, None],
                         [4, 2, 41, "US", "amer"], [6, 9, 60, None, None]], rows())
        r = px("metrics", "sales.orders", "--format", "json")
        said = r.stdout + r.stderr
        check("the run counts it as rejected (dead-lettered)",
              r.returncode == 0 and '"rows_rejected": 1' in said.replace('"rows_rejected":1',
                                                                         '"rows_rejected": 1'),
              said)

        r = px("lineage", "sales.orders", "--column", "orders.country")
        check("lineage --column traces the looked-up column to crm's column",
              "crm.customers.customers.country  [direct]" in r.stdout, r.stdout + r.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        sys.exit(summary())


if __name__ == "__main__":
    main()
