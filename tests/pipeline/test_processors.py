#!/usr/bin/env python3
"""Processor steps in pipeline.yaml, end to end against the real binary.

A small mesh in a temporary folder: crm.customers builds its port from a CSV with rename, cast,
dedupe, a domain processor (lower_text, with a parameter), mask, hash and project; sales.orders
reads two order files and crm's port with union, a mesh processor (drop_value, with
parameters), lookup, rename, filter and sql. `plexus apply`, `plexus run` and `plexus query`
return the rows computed here; a bad step argument fails the run with the step's file:line and
keeps the previous data; `plexus lineage --column` traces a column renamed by a step to the
upstream column it reads.
"""
import argparse
import json
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
from checks import check, summary  # noqa: E402

CUSTOMERS_CONTRACT = "3f2b8c1a-5d4e-4f60-9a7b-1c2d3e4f5a61"
ORDERS_CONTRACT = "7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d"

FILES = {
    "mesh.yaml": """apiVersion: plexus/v1
kind: Mesh
name: processors-mesh
description: A mesh whose pipelines are chains of processor steps.
policies: []
processors:
  drop_value:
    description: Drops the rows whose column holds a value.
    parameters:
      column: {default: status}
      value: {}
    steps:
      - filter: "${column} IS DISTINCT FROM '${value}'"
""",
    "domains/crm/domain.yaml": """apiVersion: plexus/v1
kind: Domain
name: crm
description: Who our customers are.
owners: [alice]
members: [alice]
processors:
  lower_text:
    description: A text column in lower case, trimmed.
    parameters:
      column: {}
    steps:
      - sql: SELECT * REPLACE (lower(trim(${column})) AS ${column}) FROM input
""",
    "domains/crm/customers/product.odps.yaml": f"""apiVersion: v1.0.0
kind: DataProduct
id: 0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f
name: customers
version: 1.0.0
status: active
domain: crm
description:
  purpose: One row per customer, the latest version of each.
outputPorts:
  - name: customers
    type: tables
    version: 1.0.0
    contractId: {CUSTOMERS_CONTRACT}
team:
  name: CRM
  members:
    - username: alice
      role: owner
""",
    "domains/crm/customers/contracts/customers.odcs.yaml": f"""apiVersion: v3.1.0
kind: DataContract
id: {CUSTOMERS_CONTRACT}
name: customers
version: 1.0.0
status: active
domain: crm
dataProduct: customers
description:
  purpose: One row per customer.
customProperties:
  - property: visibility
    value: public
schema:
  - name: customers
    physicalType: table
    properties:
      - name: customer_id
        logicalType: integer
        physicalType: BIGINT
        required: true
        primaryKey: true
      - name: email
        logicalType: string
        physicalType: VARCHAR
        required: true
      - name: email_hash
        logicalType: string
        physicalType: VARCHAR
      - name: phone
        logicalType: string
        physicalType: VARCHAR
      - name: country
        logicalType: string
        physicalType: VARCHAR
      - name: updated_at
        logicalType: date
        physicalType: DATE
""",
    "domains/crm/customers/data/customers.csv": """id,email,phone,country,updated_at
1, Ann@Example.org ,555-0101,FR,2024-01-01
1,ANN.NEW@Example.org,555-0199,FR,2024-02-01
2,bob@example.org,555-0202,DE,2024-01-05
3,Cy@Example.org,555-0303,US,2024-01-07
3,cy.old@example.org,555-0300,US,2023-12-31
""",
    "domains/crm/customers/pipeline.yaml": """apiVersion: plexus/v1
kind: Pipeline
inputs:
  - name: raw_customers
    file: data/customers.csv
    options:
      header: true
      all_varchar: true
outputs:
  - port: customers
    from: raw_customers
    steps:
      - rename: {id: customer_id}
      - cast: {customer_id: BIGINT, updated_at: DATE}
      - dedupe: {key: customer_id, latest: updated_at}
      - use: lower_text
        with: {column: email}
      - project: [customer_id, email, "email AS email_hash", phone, country, updated_at]
      - hash: [email_hash]
      - mask: {phone: "partial(2)"}
""",
    "domains/sales/domain.yaml": """apiVersion: plexus/v1
kind: Domain
name: sales
description: What our customers buy.
owners: [sam]
members: [sam]
""",
    "domains/sales/orders/product.odps.yaml": f"""apiVersion: v1.0.0
kind: DataProduct
id: 1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a
name: orders
version: 1.0.0
status: active
domain: sales
description:
  purpose: Every order of every region, with the customer's country.
inputPorts:
  - name: customers
    version: 1.0.0
    contractId: {CUSTOMERS_CONTRACT}
outputPorts:
  - name: orders
    type: tables
    version: 1.0.0
    contractId: {ORDERS_CONTRACT}
team:
  name: Sales
  members:
    - username: sam
      role: owner
""",
    "domains/sales/orders/contracts/orders.odcs.yaml": f"""apiVersion: v3.1.0
kind: DataContract
id: {ORDERS_CONTRACT}
name: orders
version: 1.0.0
status: active
domain: sales
dataProduct: orders
description:
  purpose: One row per order.
customProperties:
  - property: visibility
    value: public
schema:
  - name: orders
    physicalType: table
    properties:
      - name: order_id
        logicalType: integer
        physicalType: BIGINT
        required: true
        primaryKey: true
      - name: customer_id
        logicalType: integer
        physicalType: BIGINT
      - name: customer_country
        logicalType: string
        physicalType: VARCHAR
      - name: region
        logicalType: string
        physicalType: VARCHAR
      - name: amount
        logicalType: number
        physicalType: DECIMAL(10,2)
""",
    "domains/sales/orders/data/eu_orders.csv": """order_id,customer_id,amount_cents,status
10,1,1250,placed
11,2,990,test
12,9,300,placed
""",
    "domains/sales/orders/data/us_orders.ndjson": """{"order_id": 20, "customer_id": 3, "amount_cents": 4000, "status": "shipped", "region": "west"}
{"order_id": 21, "customer_id": 3, "amount_cents": 15, "status": "test", "region": "east"}
""",
    "domains/sales/orders/pipeline.yaml": """apiVersion: plexus/v1
kind: Pipeline
inputs:
  - name: eu
    file: data/eu_orders.csv
  - name: us
    file: data/us_orders.ndjson
  - name: customers
    inputPort: customers
outputs:
  - port: orders
    from: eu
    steps:
      - union: [us]
      - use: drop_value
        with: {value: test}
      - lookup: {input: customers, on: customer_id, columns: [country]}
      - rename: {country: customer_country}
      - filter: "amount_cents > 0"
      - sql: |
          SELECT order_id, customer_id, customer_country, coalesce(region, 'eu') AS region,
                 amount_cents / 100.0 AS amount
          FROM input
""",
}


def write_mesh(root):
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--plexus", required=True)
    plexus = str(pathlib.Path(parser.parse_args().plexus).resolve())
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="plexus-processors-"))
    mesh = tmp / "mesh"
    write_mesh(mesh)

    def px(*args):
        return subprocess.run([plexus, "--mesh", str(mesh), "--home", str(tmp / "home"), *args],
                              capture_output=True, text=True, timeout=120)

    def rows(sql):
        r = px("query", "--format", "json", sql)
        return json.loads(r.stdout) if r.returncode == 0 else r.stdout + r.stderr

    try:
        r = px("apply")
        check("apply accepts processors in mesh.yaml, domain.yaml and pipeline.yaml",
              r.returncode == 0, r.stdout + r.stderr)
        r = px("run", "--all")
        check("run builds both products", r.returncode == 0, r.stdout + r.stderr)

        customers = rows("SELECT customer_id, email, phone, country, CAST(updated_at AS VARCHAR)"
                         " AS updated_at FROM crm.customers.customers ORDER BY customer_id")
        check("rename, cast, dedupe (latest), a domain processor, project and mask",
              customers == [
                  {"customer_id": 1, "email": "ann.new@example.org", "phone": "******99",
                   "country": "FR", "updated_at": "2024-02-01"},
                  {"customer_id": 2, "email": "bob@example.org", "phone": "******02",
                   "country": "DE", "updated_at": "2024-01-05"},
                  {"customer_id": 3, "email": "cy@example.org", "phone": "******03",
                   "country": "US", "updated_at": "2024-01-07"}], customers)
        hashes = rows("SELECT email_hash FROM crm.customers.customers ORDER BY customer_id")
        check("hash: a salted SHA-256 per value",
              isinstance(hashes, list) and len({h["email_hash"] for h in hashes}) == 3 and
              all(re.fullmatch(r"[0-9a-f]{64}", h["email_hash"]) for h in hashes), hashes)

        orders = rows("SELECT order_id, customer_id, customer_country, region, "
                      "CAST(amount AS VARCHAR) AS amount FROM sales.orders.orders ORDER BY order_id")
        check("union by name, a mesh processor, lookup (left join), rename, filter and sql",
              orders == [
                  {"order_id": 10, "customer_id": 1, "customer_country": "FR", "region": "eu",
                   "amount": "12.50"},
                  {"order_id": 12, "customer_id": 9, "customer_country": None, "region": "eu",
                   "amount": "3.00"},
                  {"order_id": 20, "customer_id": 3, "customer_country": "US", "region": "west",
                   "amount": "40.00"}], orders)

        # Column lineage follows the lookup and the rename to crm's column.
        r = px("lineage", "sales.orders", "--column", "orders.customer_country", "--format",
               "json")
        said = r.stdout + r.stderr
        check("lineage --column: a renamed column traces to the upstream column",
              r.returncode == 0 and "crm.customers.customers" in said and '"country"' in said,
              said)
        r = px("lineage", "sales.orders", "--column", "orders.customer_country")
        check("lineage --column (table): reads crm.customers.customers.country directly",
              "crm.customers.customers.country  [direct]" in r.stdout, r.stdout)

        # A bad step argument: the run fails naming the step and its line; the data stays.
        pipeline = mesh / "domains/sales/orders/pipeline.yaml"
        good = pipeline.read_text()
        bad = good.replace("rename: {country: customer_country}",
                           "rename: {nation: customer_country}")
        pipeline.write_text(bad)
        line = bad.splitlines().index("      - rename: {nation: customer_country}") + 1
        r = px("apply")
        check("apply takes the edited pipeline", r.returncode == 0, r.stdout + r.stderr)
        r = px("run", "sales.orders")
        said = r.stdout + r.stderr
        check("a bad step argument fails the run", r.returncode != 0, said)
        check("the failure names the port, the step and its file:line",
              "output port sales.orders.orders" in said and
              f"rename at {pipeline}:{line}" in said and "column nation does not exist" in said,
              said)
        check("the previous data stays", rows("SELECT count(*) AS n FROM sales.orders.orders") ==
              [{"n": 3}])

        # A bad use: a parameter without default left unset, named at the use.
        pipeline.write_text(good.replace("with: {value: test}", "with: {column: status}"))
        r = px("apply")
        said = r.stdout + r.stderr
        if r.returncode == 0:
            r = px("run", "sales.orders")
            said = r.stdout + r.stderr
        check("a use without a required parameter is refused, naming it",
              r.returncode != 0 and "parameter 'value'" in said and "pipeline.yaml" in said, said)
        pipeline.write_text(good)
        check("restored: apply and run", px("apply").returncode == 0 and
              px("run", "sales.orders").returncode == 0)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        sys.exit(summary())


if __name__ == "__main__":
    main()
