#!/usr/bin/env python3
"""psql (Debian postgresql-client) against `plexus serve`, over TLS with SCRAM-SHA-256.

nora connects, lists the products with \\l \\dn \\dt \\d (only what she may see: the restricted
customer lifetime value port appears once her access request is approved), runs a cross-domain
query whose numbers equal the CLI's, and sees customers row-filtered to NL with emails hashed.
A wrong password and a write are refused with PostgreSQL's SQLSTATEs.
"""
import argparse
import os
import pathlib
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from checks import RESULTS, check  # noqa: E402
from wire_mesh import (CROSS_SQL, CROSS_SQL_PG, EMAIL_SQL, PASSWORDS, WireMesh, is_hash,  # noqa: E402
                       normalise, require)


def psql(mesh, user, *commands, password=None):
    """(returncode, stdout, stderr) of psql -X -A -t -F '|' with each command as one -c."""
    env = dict(os.environ, PGPASSWORD=password or PASSWORDS[user], PGSSLMODE="require",
               PGCONNECT_TIMEOUT="10")
    cmd = ["psql", "-X", "-A", "-t", "-F", "|", "-v", "ON_ERROR_STOP=1",
           f"host=127.0.0.1 port={mesh.pg_port} dbname=plexus user={user}"]
    for c in commands:
        cmd += ["-c", c]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    return proc.returncode, proc.stdout, proc.stderr


def rows_of(stdout):
    return [line.split("|") for line in stdout.splitlines() if line.strip()]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--plexus", required=True)
    parser.add_argument("--mesh", default=os.path.join(os.path.dirname(__file__),
                                                       "../../examples/jaffle-mesh"))
    args = parser.parse_args()
    require("psql", "psql (postgresql-client)")
    with WireMesh(args.plexus, args.mesh) as mesh:
        rc, out, err = psql(mesh, "nora", "\\conninfo")
        check("psql connects over TLS with SCRAM", rc == 0 and "SSL connection" in out, out + err)
        rc, out, err = psql(mesh, "nora", "\\conninfo", password="wrong")
        check("a wrong password is refused (28P01)", rc != 0 and "password authentication failed"
              in err, err)

        rc, out, err = psql(mesh, "nora", "\\l")
        check("\\l lists the plexus database", rc == 0 and out.startswith("plexus|"), out + err)
        rc, out, err = psql(mesh, "nora", "\\dn")
        schemas = [r[0] for r in rows_of(out)]
        check("\\dn lists one schema per product", rc == 0 and "customers.customers" in schemas
              and "orders.orders" in schemas, out + err)
        rc, out, err = psql(mesh, "nora", "\\dt *.*")
        tables = {(r[0], r[1]) for r in rows_of(out)}
        check("\\dt *.* lists the public ports", rc == 0 and ("customers.customers", "customers")
              in tables, out + err)
        check("\\dt *.* leaves out the restricted port nora has no grant for",
              not any("customer_lifetime_value" in s for s, _ in tables), tables)

        mesh.grant_nora()
        rc, out, err = psql(mesh, "nora", "\\dt *.*")
        check("after the grant \\dt *.* lists the customer lifetime value port",
              ("marketing.customer_lifetime_value", "customer_lifetime_value")
              in {(r[0], r[1]) for r in rows_of(out)}, out + err)
        rc, out, err = psql(mesh, "nora", '\\d "customers.customers".customers')
        check("\\d describes a port's columns", rc == 0 and "customer_id" in out and "email" in out,
              out + err)

        cli = normalise(mesh.cli_rows(CROSS_SQL, mesh.nora_token))
        for sql, what in ((CROSS_SQL, "domain.product.port"), (CROSS_SQL_PG, '"domain.product".port')):
            rc, out, err = psql(mesh, "nora", sql)
            got = normalise(rows_of(out))
            check(f"cross-domain query ({what} names) equals the CLI's answer",
                  rc == 0 and got == cli and len(got) > 0, (got, cli, err))
        check("nora's row filter: only NL", all(r[0] == "NL" for r in cli), cli)

        rc, out, err = psql(mesh, "nora", EMAIL_SQL)
        emails = rows_of(out)
        check("nora sees emails hashed and only NL customers",
              rc == 0 and emails and all(is_hash(r[0]) and r[1] == "NL" for r in emails), out + err)

        rc, out, err = psql(mesh, "nora", "DELETE FROM customers.customers.customers")
        check("a write is refused as in a read-only transaction", rc != 0 and "read-only" in err, err)
        rc, out, err = psql(mesh, "nora", "SELECT * FROM read_csv('/etc/passwd')")
        check("the SQL guard refuses a file read", rc != 0 and "root:" not in out, out + err)
        rc, out, err = psql(mesh, "nora", "SET application_name = 'wire test'",
                            "SHOW application_name")
        check("SET and SHOW", rc == 0 and "wire test" in out, out + err)
    print(f"{RESULTS['passed']} passed, {RESULTS['failed']} failed")
    return 1 if RESULTS["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
