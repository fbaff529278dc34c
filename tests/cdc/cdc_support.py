"""What the CDC end-to-end scripts share: a one-product mesh (sales.orders, its output port
`orders` fed by the CDC input `changes`), its contract, and runs killed with -9 mid-way."""
import json
import signal
import subprocess
import time


def kill_runs(argv, delays):
    """Starts argv once per delay and sends it SIGKILL after that delay if it still runs;
    returns how many runs were killed."""
    killed = 0
    for delay in delays:
        run = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        if run.poll() is None:
            run.send_signal(signal.SIGKILL)
            killed += 1
        run.wait()
    return killed


def contract(contract_id, version, columns, purpose, *, domain="sales", product="orders",
             table="orders", row="order"):
    """An ODCS contract for the table `table` of `domain`.`product` (sales.orders.orders by
    default); columns: (name, physicalType, logicalType, primary key), the key first."""
    props = ""
    for name, physical, logical, key in columns:
        props += (f"      - name: {name}\n        logicalType: {logical}\n"
                  f"        physicalType: {physical}\n        required: {str(key).lower()}\n"
                  f"        primaryKey: {str(key).lower()}\n")
        if key:
            props += "        primaryKeyPosition: 1\n        unique: true\n"
    return f"""apiVersion: v3.1.0
kind: DataContract
id: {contract_id}
name: {table}
version: {version}
status: active
domain: {domain}
dataProduct: {product}
description:
  purpose: {purpose}
customProperties:
  - property: visibility
    value: public
schema:
  - name: {table}
    physicalType: table
    description: One row per {row}.
    properties:
{props}"""


def write_mesh(mesh, *, mesh_name, description, product_id, purpose, contract_id, contract_text,
               cdc):
    """Writes the mesh into `mesh`: the domain sales (owned by carol), the product orders with
    its contract (`contract_id`, `contract_text`) and a pipeline whose input `changes` has the `cdc` block
    (YAML lines, indented six spaces). Returns the product's folder."""
    product = mesh / "domains/sales/orders"
    (product / "contracts").mkdir(parents=True)
    (mesh / "mesh.yaml").write_text(
        f"apiVersion: plexus/v1\nkind: Mesh\nname: {mesh_name}\n"
        f"description: {description}\npolicies: []\n")
    (mesh / "domains/sales/domain.yaml").write_text(
        "apiVersion: plexus/v1\nkind: Domain\nname: sales\ndescription: Orders.\n"
        "owners: [carol]\nmembers: [carol]\n")
    (product / "product.odps.yaml").write_text(f"""apiVersion: v1.0.0
kind: DataProduct
id: {product_id}
name: orders
version: 1.0.0
status: active
domain: sales
description:
  purpose: {purpose}
outputPorts:
  - name: orders
    description: Every order, one row each.
    type: tables
    version: 1.0.0
    contractId: {contract_id}
team:
  name: Sales
  members:
    - username: carol
      role: owner
""")
    (product / "contracts/orders.odcs.yaml").write_text(contract_text)
    (product / "pipeline.yaml").write_text(f"""apiVersion: plexus/v1
kind: Pipeline
inputs:
  - name: changes
    cdc:
{cdc}outputs:
  - port: orders
    from: changes
""")
    return product


def plexus_cli(plexus, mesh, home):
    """px(*args): runs plexus on `mesh` with its home `home`, output captured."""
    def px(*args):
        return subprocess.run([plexus, "--mesh", str(mesh), "--home", str(home), *args],
                              capture_output=True, text=True, timeout=60)
    return px


def product_rows(px, columns, normalize=lambda value: value):
    """The rows of sales.orders.orders (`columns`, by id) through `plexus query`, or the
    command's output when it fails."""
    r = px("query", "--format", "json",
           f"SELECT {', '.join(columns)} FROM sales.orders.orders ORDER BY id")
    if r.returncode != 0:
        return r.stdout + r.stderr
    return [[normalize(row[c]) for c in columns] for row in json.loads(r.stdout)]
