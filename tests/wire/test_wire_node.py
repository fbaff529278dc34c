#!/usr/bin/env python3
"""node-postgres (npm pg, installed into third_party/wire by scripts/bootstrap.sh) against
`plexus serve`, over TLS with SCRAM-SHA-256: a pg_catalog listing and an information_schema
query with parameters show only what nora may see, the cross-domain query equals the CLI's
answer, a named prepared statement with a parameter runs twice, nora's emails are hashed,
and a write is refused with 25006.
"""
import json
import os
import pathlib
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from checks import check, summary, mesh_args  # noqa: E402
from wire_mesh import (CROSS_SQL, EMAIL_SQL, PARAM_SQL, PASSWORDS, WireMesh,  # noqa: E402
                       check_client_session, require)

ROOT = pathlib.Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "third_party" / "wire" / "node_modules"


def main():
    args = mesh_args()
    require("node", "node")
    require(str(NODE_MODULES / "pg"), "node-postgres (npm pg)")
    program = pathlib.Path(__file__).resolve().parent / "wire_node.cjs"
    with WireMesh(args.plexus, args.mesh) as mesh:
        mesh.grant_nora()
        customer_id = mesh.cli_rows("SELECT min(customer_id) AS id FROM customers.customers.customers",
                                    mesh.nora_token)[0]["id"]
        proc = subprocess.run(["node", str(program), str(mesh.pg_port), "nora", PASSWORDS["nora"],
                               CROSS_SQL, PARAM_SQL, EMAIL_SQL, str(customer_id)],
                              capture_output=True, text=True, timeout=120,
                              env=dict(os.environ, NODE_PATH=str(NODE_MODULES)))
        check("the node-postgres program runs", proc.returncode == 0, proc.stdout + proc.stderr)
        if proc.returncode != 0:
            return summary()
        out = json.loads(proc.stdout)
        check_client_session(mesh, out, customer_id, "pg_catalog", out["param"],
                             "a named prepared statement with a parameter equals the CLI's "
                             "answer, twice")
        columns = [c[0] for c in out["columns"]]
        check("information_schema.columns with parameters lists a port's columns",
              "customer_id" in columns and "email" in columns, out["columns"])
        check("a cursor declared with a parameter and FETCHed 3 rows at a time (extended "
              "protocol) gives nora's masked rows",
              out["fetched"] == out["emails"] and len(out["fetch_sizes"]) > 1
              and all(n == 3 for n in out["fetch_sizes"][:-1]), (out["fetch_sizes"], out["fetched"][:2]))
    return summary()


if __name__ == "__main__":
    sys.exit(main())
