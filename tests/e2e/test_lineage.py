#!/usr/bin/env python3
"""plexus lineage, end to end, on a copy of the example mesh with one more level.

The example mesh is two levels deep (marketing.customer_lifetime_value reads orders, customers
and payments); the copy adds sales.vip_customers, which reads customer_lifetime_value, so
orders.orders has a downstream product at depth 2:
- depth 1 against unlimited, up and down, in the table, json and dot formats;
- --column walks: customer_lifetime_value's customer_id comes from customers and orders
  (customers directly, orders through a join), vip_customers' lifetime_value from payments'
  amount at depth 2;
- json parses and names each node's depth; dot has the expected edges (and, when Graphviz is
  installed, `dot -Tsvg` accepts it);
- payments made private, an outsider (a principal of no domain) never sees it: not in any format,
  not at any depth, and asking for it reads like an unknown product;
- bad input: an unknown product, column or port names what exists; a bad depth is usage.
"""
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
from checks import check, make_private, mesh_args, shown_token, summary  # noqa: E402

CLV = "marketing.customer_lifetime_value"
VIP = "sales.vip_customers"

VIP_FILES = {
    "domain.yaml": """apiVersion: plexus/v1
kind: Domain
name: sales
description: Account management for the best customers.
owners: [ivan]
members: [ivan]
""",
    "vip_customers/product.odps.yaml": """apiVersion: v1.0.0
kind: DataProduct
id: 5b0f3a52-8a61-4d7e-9a55-3f1f0e9c2a11
name: vip_customers
version: 1.0.0
status: active
domain: sales
description:
  purpose: The customers worth a call, by lifetime value.
inputPorts:
  - name: customer_lifetime_value
    version: 1.0.0
    contractId: 37b6e92e-0160-4d26-b9d1-918d1d762595
outputPorts:
  - name: vip_customers
    type: tables
    version: 1.0.0
    contractId: 9a4e1f0c-7d2b-4c39-8f6e-2b5d8c1e0f44
team:
  name: Account management
  members:
    - username: ivan
      role: owner
""",
    "vip_customers/contracts/vip_customers.odcs.yaml": """apiVersion: v3.1.0
kind: DataContract
id: 9a4e1f0c-7d2b-4c39-8f6e-2b5d8c1e0f44
name: vip_customers
version: 1.0.0
status: active
domain: sales
dataProduct: vip_customers
schema:
  - name: vip_customers
    physicalType: table
    properties:
      - name: customer_id
        logicalType: integer
        physicalType: BIGINT
        required: true
      - name: lifetime_value
        logicalType: number
        physicalType: DECIMAL(12,2)
        required: true
""",
    "vip_customers/pipeline.yaml": """apiVersion: plexus/v1
kind: Pipeline
inputs:
  - name: clv
    inputPort: customer_lifetime_value
outputs:
  - port: vip_customers
    sql: |
      SELECT customer_id, lifetime_value FROM clv WHERE lifetime_value > 100
""",
}


def add_vip_product(mesh):
    """sales.vip_customers, reading marketing.customer_lifetime_value (a third level)."""
    for rel, text in VIP_FILES.items():
        path = pathlib.Path(mesh) / "domains" / "sales" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def dot_edges(text):
    """The edges of a DOT text, as (upstream, downstream) pairs of unquoted ids."""
    return set(re.findall(r'^\s*"((?:[^"\\]|\\.)*)" -> "((?:[^"\\]|\\.)*)"', text, re.M))


def check_dot_shape(name, text):
    """A digraph named lineage, balanced, every statement a quoted node or edge."""
    lines = text.strip().splitlines()
    body = lines[1:-1]
    statement = re.compile(r'^\s+("((?:[^"\\]|\\.)*)"( -> "((?:[^"\\]|\\.)*)")?( \[[^\]]*\])?'
                           r'|rankdir=LR|node \[shape=box\]);$')
    bad = [line for line in body if not statement.match(line)]
    check(f"{name}: dot is a digraph of quoted ids",
          lines and lines[0] == "digraph lineage {" and lines[-1] == "}" and not bad,
          (lines[:2], bad))
    graphviz = shutil.which("dot")
    if graphviz:
        svg = subprocess.run([graphviz, "-Tsvg"], input=text, capture_output=True, text=True)
        check(f"{name}: Graphviz renders it", svg.returncode == 0 and "<svg" in svg.stdout,
              svg.stderr)


def main():
    args = mesh_args()
    work = tempfile.mkdtemp(prefix="plexus-lineage-")
    try:
        mesh, home = os.path.join(work, "mesh"), os.path.join(work, "home")
        shutil.copytree(args.mesh, mesh, ignore=shutil.ignore_patterns(".plexus"))
        add_vip_product(mesh)
        base = [os.path.abspath(args.plexus), "--mesh", mesh, "--home", home]

        def px(*argv, token=None):
            cmd = base + (["--token", token] if token else []) + list(argv)
            return subprocess.run(cmd, capture_output=True, text=True)

        applied = px("apply")
        check("the mesh with a third level applies", applied.returncode == 0,
              applied.stdout + applied.stderr)
        if applied.returncode != 0:
            return
        check_table(px)
        check_json(px)
        check_dot(px)
        check_bad_input(px)
        make_private(mesh, "payments")
        reapplied = px("apply")
        check("payments made private applies", reapplied.returncode == 0,
              reapplied.stdout + reapplied.stderr)
        created = px("principal", "create", "nora", "--token")
        token = shown_token(created.stdout)
        check("an outsider with a token", created.returncode == 0 and token, created.stderr)
        check_outsider(px, token)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        sys.exit(summary())


def check_table(px):
    full = px("lineage", "orders.orders")
    check("table: downstream at depth 2 is indented under depth 1",
          full.returncode == 0 and f"\n    {CLV}" in full.stdout and
          f"\n      {VIP}" in full.stdout, full.stdout + full.stderr)
    one = px("lineage", "orders.orders", "--depth", "1")
    check("table: --depth 1 stops at the direct consumer and says so",
          one.returncode == 0 and CLV in one.stdout and VIP not in one.stdout and
          "stopped at depth 1" in one.stdout, one.stdout + one.stderr)
    up = px("lineage", VIP, "--direction", "up")
    check("table: --direction up from the third level reaches the sources, nothing downstream",
          up.returncode == 0 and all(p in up.stdout for p in
                                     ["customers.customers", "orders.orders",
                                      "payments.payments", CLV]) and
          "read by" not in up.stdout, up.stdout + up.stderr)
    column = px("lineage", CLV, "--column", "customer_id", "--direction", "up")
    out = column.stdout
    check("table: --column customer_id comes from customers (direct) and orders (indirect)",
          column.returncode == 0 and
          "customers.customers.customers.customer_id  [direct]" in out and
          "orders.orders.orders.customer_id  [indirect]" in out, out + column.stderr)
    port_column = px("lineage", CLV, "--column", "customer_lifetime_value.customer_id")
    check("table: --column port.column is the same column",
          port_column.returncode == 0 and port_column.stdout.splitlines()[0] ==
          f"{CLV}.customer_lifetime_value.customer_id", port_column.stdout + port_column.stderr)


def check_json(px):
    answer = px("lineage", "orders.orders", "--format", "json")
    try:
        doc = json.loads(answer.stdout)
    except ValueError:
        check("json parses", False, answer.stdout + answer.stderr)
        return
    depths = {n["id"]: n["depth"] for n in doc["nodes"] if n["direction"] == "downstream"}
    check("json: nodes with their depth (clv 1, vip 2)",
          depths == {CLV: 1, VIP: 2} and doc["depth"] is None and not doc["truncated"], doc)
    check("json: edges with their depth and ports",
          {(e["upstream"], e["downstream"], e["depth"]) for e in doc["edges"]} ==
          {("orders.orders", CLV, 1), (CLV, VIP, 2)} and
          all(e["upstream_port"] and e["downstream_input"] for e in doc["edges"]), doc["edges"])
    one = json.loads(px("lineage", "orders.orders", "--format", "json", "--depth", "1").stdout)
    check("json: --depth 1 is truncated with one edge",
          one["truncated"] and one["depth"] == 1 and len(one["edges"]) == 1, one)
    column = json.loads(px("lineage", VIP, "--column", "lifetime_value", "--direction", "up",
                           "--format", "json").stdout or "{}")
    nodes = {n["id"]: n["depth"] for n in column.get("nodes", [])}
    check("json: vip lifetime_value <- clv lifetime_value (1) <- payments amount (2)",
          column.get("level") == "column" and
          nodes.get(f"{CLV}.customer_lifetime_value.lifetime_value") == 1 and
          nodes.get("payments.payments.payments.amount") == 2, column)


def check_dot(px):
    answer = px("lineage", CLV, "--format", "dot")
    check_dot_shape("product", answer.stdout)
    check("dot: every upstream -> downstream edge of clv",
          dot_edges(answer.stdout) == {("customers.customers", CLV), ("orders.orders", CLV),
                                        ("payments.payments", CLV), (CLV, VIP)},
          answer.stdout)
    column = px("lineage", CLV, "--column", "customer_id", "--direction", "up", "--format", "dot")
    check_dot_shape("column", column.stdout)
    edges = dot_edges(column.stdout)
    target = f"{CLV}.customer_lifetime_value.customer_id"
    check("dot: column edges into customer_id, indirect ones dashed",
          ("customers.customers.customers.customer_id", target) in edges and
          ("orders.orders.orders.customer_id", target) in edges and
          "[style=dashed]" in column.stdout, column.stdout)


def check_bad_input(px):
    unknown = px("lineage", "nope.nothing")
    check("an unknown product: exit 1, named", unknown.returncode == 1 and
          "unknown data product nope.nothing" in unknown.stderr, unknown.stderr)
    column = px("lineage", CLV, "--column", "customer")
    check("an unknown column: exit 1, the port's columns listed",
          column.returncode == 1 and "no column customer" in column.stderr and
          "lifetime_value" in column.stderr, column.stderr)
    port = px("lineage", CLV, "--column", "nope.customer_id")
    check("an unknown port: exit 1, the ports listed", port.returncode == 1 and
          "customer_lifetime_value" in port.stderr, port.stderr)
    depth = px("lineage", CLV, "--depth", "0")
    check("--depth 0 is bad usage (exit 2)", depth.returncode == 2, depth.stderr)
    direction = px("lineage", CLV, "--direction", "sideways")
    check("--direction sideways is bad usage (exit 2)", direction.returncode == 2,
          direction.stderr)


def check_outsider(px, token):
    erin = px("token", "issue", "erin").stdout.strip()
    member = px("lineage", CLV, token=erin)
    check("a member of payments' domain sees its private product in the lineage",
          member.returncode == 0 and "payments.payments" in member.stdout,
          member.stdout + member.stderr)
    for fmt in ("table", "json", "dot"):
        seen = px("lineage", CLV, "--format", fmt, token=token)
        check(f"an outsider ({fmt}): the lineage without the private product",
              seen.returncode == 0 and "payments" not in seen.stdout and
              "orders.orders" in seen.stdout, seen.stdout + seen.stderr)
    deep = px("lineage", VIP, "--column", "lifetime_value", "--format", "json", token=token)
    check("an outsider: a column walk at any depth leaves the private product out",
          deep.returncode == 0 and "payments" not in deep.stdout, deep.stdout + deep.stderr)
    hidden = px("lineage", "payments.payments", token=token)
    unknown = px("lineage", "nope.nothing", token=token)
    check("an outsider: the private product reads like an unknown one",
          hidden.returncode == 1 and hidden.stderr.replace("payments.payments", "X") ==
          unknown.stderr.replace("nope.nothing", "X"), (hidden.stderr, unknown.stderr))


if __name__ == "__main__":
    main()
