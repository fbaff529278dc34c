#!/usr/bin/env python3
"""psycopg2 (Debian python3-psycopg2) against `plexus serve`, over TLS with SCRAM-SHA-256.

The test runs under any python3 (ctest's); the client part runs in /usr/bin/python3, where
Debian's psycopg2 lives (the python3 on PATH may be another one). psycopg2 sends BEGIN before
the first statement (no autocommit), lists the ports from information_schema and pg_catalog,
runs the cross-domain query (checked against the CLI), a query with a parameter, and sees
nora's masked view, also through a named (server-side) cursor read a few rows at a time.
"""
import json
import pathlib
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from checks import check, summary, mesh_args  # noqa: E402
from wire_mesh import (CLV_PORT, CROSS_SQL, EMAIL_SQL, PARAM_SQL, WireMesh,  # noqa: E402
                       check_client_session, require)

DEBIAN_PYTHON = "/usr/bin/python3"

# Runs in /usr/bin/python3: connects with the DSN in argv[1], prints one JSON object.
CLIENT = r'''
import json, sys
import psycopg2
out = {}
conn = psycopg2.connect(sys.argv[1])
out["ssl"] = conn.info.ssl_in_use
out["server_version"] = conn.server_version
cur = conn.cursor()
cur.execute("SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2")
out["tables"] = cur.fetchall()
cur.execute("SELECT n.nspname, c.relname FROM pg_catalog.pg_class c "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'r' AND n.nspname !~ '^pg_' ORDER BY 1, 2")
out["pg_class"] = cur.fetchall()
cur.execute(sys.argv[2])
out["cross"] = [[str(v) if v is not None else None for v in r] for r in cur.fetchall()]
cur.execute(sys.argv[3].replace("$1", "%s"), (int(sys.argv[5]),))
out["param"] = [[str(v) for v in r] for r in cur.fetchall()]
cur.execute(sys.argv[4])
out["emails"] = cur.fetchall()
named = conn.cursor("big read")  # a server-side cursor: DECLARE, then FETCH FORWARD itersize
named.itersize = 2
named.execute(sys.argv[4])
out["named"] = [list(r) for r in named]
named.close()
named = conn.cursor("scroller")
named.execute(sys.argv[4])
named.fetchmany(2)
try:
    named.scroll(-1)
    out["scroll_back"] = "accepted"
except psycopg2.Error as e:
    out["scroll_back"] = e.pgcode
conn.rollback()
try:
    cur.execute("UPDATE customers.customers.customers SET email = 'x'")
    out["write"] = "accepted"
except psycopg2.Error as e:
    out["write"] = e.pgcode
conn.rollback()
conn.close()
print(json.dumps(out))
'''

# Runs in /usr/bin/python3: a named cursor over CLV (nora's grant) reads a row, says READY,
# waits for a line on stdin (the test revokes the grant meanwhile), then fetches again.
REVOKE_CLIENT = r'''
import json, sys
import psycopg2
conn = psycopg2.connect(sys.argv[1])
cur = conn.cursor("clv")
cur.itersize = 1
cur.execute(sys.argv[2])
out = {"before": cur.fetchone() is not None}
print("READY", flush=True)
sys.stdin.readline()
try:
    out["after"] = "row" if cur.fetchone() is not None else "none"
except psycopg2.Error as e:
    out["after"] = e.pgcode
print(json.dumps(out))
'''


def check_revoked_cursor(mesh, grant):
    """A revoked grant stops an open cursor at its next FETCH, not only the next query."""
    proc = subprocess.Popen([DEBIAN_PYTHON, "-c", REVOKE_CLIENT, mesh.dsn("nora"),
                             f"SELECT * FROM {CLV_PORT}"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    ready = proc.stdout.readline().strip()
    if ready == "READY":
        mesh.run("access", "revoke", grant, token=mesh.grace_token)
    out, err = proc.communicate("go\n", timeout=60)
    result = json.loads(out) if out.strip() else {}
    check("a cursor over CLV reads while nora holds the grant", result.get("before") is True,
          (ready, out, err))
    check("after the grant is revoked the open cursor's next FETCH is refused (42501)",
          result.get("after") == "42501", (out, err))


def main():
    args = mesh_args()
    require(DEBIAN_PYTHON, "Debian's python3 (for python3-psycopg2)")
    probe = subprocess.run([DEBIAN_PYTHON, "-c", "import psycopg2"], capture_output=True, text=True)
    if probe.returncode != 0:
        raise SystemExit("FAIL  psycopg2 not importable by /usr/bin/python3: run scripts/bootstrap.sh")
    with WireMesh(args.plexus, args.mesh) as mesh:
        grant = mesh.grant_nora()
        customer_id = mesh.cli_rows("SELECT min(customer_id) AS id FROM customers.customers.customers",
                                    mesh.nora_token)[0]["id"]
        proc = subprocess.run([DEBIAN_PYTHON, "-c", CLIENT, mesh.dsn("nora"), CROSS_SQL, PARAM_SQL,
                               EMAIL_SQL, str(customer_id)],
                              capture_output=True, text=True, timeout=120)
        check("psycopg2 runs its session", proc.returncode == 0, proc.stdout + proc.stderr)
        if proc.returncode != 0:
            return summary()
        out = json.loads(proc.stdout)
        tables = check_client_session(mesh, out, customer_id, "information_schema.tables",
                                      [out["param"]],
                                      "a query with a parameter equals the CLI's answer")
        check("pg_catalog lists the same ports", [tuple(t) for t in out["pg_class"]] == tables,
              out["pg_class"])
        check("a named (server-side) cursor read 2 rows at a time gives nora's masked rows",
              out["named"] == [list(r) for r in out["emails"]] and len(out["named"]) > 2,
              (out["named"][:3], out["emails"][:3]))
        check("a named cursor cannot scroll backward (55000)", out["scroll_back"] == "55000",
              out["scroll_back"])
        check_revoked_cursor(mesh, grant)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
