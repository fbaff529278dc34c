#!/usr/bin/env python3
"""psql (Debian postgresql-client) against `plexus serve`, over TLS with SCRAM-SHA-256.

nora connects, lists the products with \\l \\dn \\dt \\d (only what she may see: the restricted
customer lifetime value port appears once her access request is approved), runs a cross-domain
query whose numbers equal the CLI's, and sees customers row-filtered to NL with emails hashed,
also through PREPARE / EXECUTE with parameters (psql's only way to bind them) and through
cursors (FETCH_COUNT, DECLARE / FETCH / MOVE / CLOSE).
A wrong password and a write are refused with PostgreSQL's SQLSTATEs. A product governance
quarantines disappears from nora's \\dt and information_schema as querying it is refused, and
comes back when the quarantine ends.
"""
import json
import os
import pathlib
import re
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from checks import check, summary, mesh_args  # noqa: E402
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


BY_ID_SQL = ("SELECT customer_id, first_name, email, country FROM \"customers.customers\".customers "
             "WHERE customer_id = $1")
BY_COUNTRY_SQL = "SELECT count(*) FROM customers.customers.customers WHERE country = $1"


def check_prepared_statements(mesh):
    """PREPARE / EXECUTE / DEALLOCATE: psql's statements with parameters, through the guard."""
    ids = [r["customer_id"] for r in mesh.cli_rows(
        "SELECT customer_id FROM customers.customers.customers ORDER BY customer_id LIMIT 2",
        mesh.nora_token)]
    require_two = len(ids) == 2
    check("nora sees at least two customers (for the prepared statement)", require_two, ids)
    if not require_two:
        return
    rc, out, err = psql(mesh, "nora", f"PREPARE by_id(int) AS {BY_ID_SQL}",
                        f"EXECUTE by_id({ids[0]})", f"EXECUTE by_id('{ids[1]}')",
                        "DEALLOCATE by_id")
    got = [r for r in rows_of(out) if len(r) == 4]
    cli = [row for i in ids for row in mesh.cli_rows(BY_ID_SQL.replace("$1", str(i)),
                                                     mesh.nora_token)]
    check("PREPARE + EXECUTE with two arguments equal the CLI's answers",
          rc == 0 and normalise(got) == normalise(cli) and len(got) == 2, (got, cli, err))
    check("EXECUTE as nora: emails hashed, only NL",
          got and all(is_hash(r[2]) and r[3] == "NL" for r in got), got)

    counts = {}
    for country in ("NL", "DE"):
        cli_count = mesh.cli_rows(BY_COUNTRY_SQL.replace("$1", f"'{country}'"), mesh.nora_token)
        counts[country] = list(cli_count[0].values())[0]
    rc, out, err = psql(mesh, "nora", f"PREPARE by_country AS {BY_COUNTRY_SQL}",
                        "EXECUTE by_country('NL')", "EXECUTE by_country('DE'::text)")
    got = [int(r[0]) for r in rows_of(out) if r[0].isdigit()]
    check("EXECUTE sees nora's row filter (NL only), as the CLI does",
          rc == 0 and got == [counts["NL"], counts["DE"]] and counts["NL"] > 0
          and counts["DE"] == 0, (got, counts, err))

    rc, out, err = psql(mesh, "nora", "PREPARE ns(text) AS SELECT nspname FROM "
                        "pg_catalog.pg_namespace WHERE nspname = $1",
                        "EXECUTE ns('customers.customers')")
    check("a prepared catalog query runs", rc == 0 and "customers.customers" in out, out + err)

    def sqlstate_of(*commands):
        rc, out, err = psql(mesh, "nora", "\\set VERBOSITY verbose", *commands)
        return err if rc != 0 else "no error"
    prepare = f"PREPARE by_id(int) AS {BY_ID_SQL}"
    for commands, sqlstate, what in (
            (("EXECUTE nosuch(1)",), "26000", "an unknown name"),
            ((prepare, prepare), "42P05", "a duplicate name"),
            ((prepare, "EXECUTE by_id(1, 2)"), "42601", "a wrong number of arguments"),
            ((prepare, "DEALLOCATE by_id", "EXECUTE by_id(1)"), "26000", "a deallocated name"),
            ((prepare, "EXECUTE by_id((SELECT max(customer_id) FROM customers.customers.customers))"),
             "0A000", "an argument that is not a constant"),
            ((prepare, "EXECUTE by_id('x')"), "22P02", "an argument of the wrong type"),
            (("PREPARE f AS SELECT * FROM read_csv('/etc/passwd')",), "42501",
             "a query the SQL guard refuses")):
        err = sqlstate_of(*commands)
        check(f"prepared statements: {what} is refused ({sqlstate})", f"ERROR:  {sqlstate}" in err,
              err)


QUARANTINE_POLICY = """apiVersion: plexus/v1
kind: Policies
policies:
  - id: enough-rows
    title: A port of the orders domain holds enough rows to be trusted
    severity: warn
    quarantine: true
    sql: |
      SELECT qualified_name AS entity, 'only ' || rows || ' rows published' AS message
      FROM ports WHERE domain = 'orders' AND rows < 1000000
"""
TABLES_SQL = ("SELECT table_schema, table_name FROM information_schema.tables "
              "WHERE table_schema = 'orders.orders'")


def data_rows(stdout):
    """rows_of without the command tags psql -t prints for each -c (BEGIN, MOVE 1, ...)."""
    return [row for row in rows_of(stdout) if len(row) > 1]


def check_cursors(mesh, emails):
    """psql's FETCH_COUNT (DECLARE / FETCH FORWARD n / CLOSE) and cursors by hand: the same
    rows as a plain SELECT, through the same guard; what a cursor cannot do is refused."""
    rc, out, err = psql(mesh, "nora", "\\set FETCH_COUNT 3", EMAIL_SQL)
    check("psql with FETCH_COUNT=3 prints the same rows as without (DECLARE / FETCH)",
          rc == 0 and rows_of(out) == emails, (rows_of(out)[:3], err))
    rc, out, err = psql(mesh, "nora", "BEGIN", f"DECLARE c NO SCROLL CURSOR FOR {EMAIL_SQL}",
                        "FETCH 2 FROM c", "MOVE FORWARD 1 IN c", "FETCH ALL FROM c", "CLOSE c",
                        "COMMIT")
    check("FETCH 2, MOVE 1, FETCH ALL: every row but the third, in order",
          rc == 0 and data_rows(out) == emails[:2] + emails[3:], (out, err))

    def sqlstate_of(*commands):
        rc, out, err = psql(mesh, "nora", "\\set VERBOSITY verbose", *commands)
        return rc, re.findall(r"ERROR:  ([0-9A-Z]{5})", err), out
    for what, commands, sqlstate in (
            ("DECLARE outside a transaction block", [f"DECLARE c CURSOR FOR {EMAIL_SQL}"], "25P01"),
            ("a backward FETCH", ["BEGIN", f"DECLARE c CURSOR FOR {EMAIL_SQL}", "FETCH PRIOR FROM c"],
             "55000"),
            ("FETCH from a cursor that does not exist", ["BEGIN", "FETCH 1 FROM nope"], "34000"),
            ("a cursor over a file read", ["BEGIN", "DECLARE c CURSOR FOR SELECT * FROM "
                                           "read_csv('/etc/passwd')"], "42501"),
            ("a cursor after COMMIT", ["BEGIN", f"DECLARE c CURSOR FOR {EMAIL_SQL}", "COMMIT",
                                       "FETCH 1 FROM c"], "34000")):
        rc, states, out = sqlstate_of(*commands)
        check(f"cursors: {what} is refused ({sqlstate})", rc != 0 and states == [sqlstate]
              and "root:" not in out, (states, out))
    rc, out, err = psql(mesh, "nora", f"DECLARE h CURSOR WITH HOLD FOR {EMAIL_SQL}",
                        "FETCH 1 FROM h", "FETCH 1 FROM h", "CLOSE h")
    check("a WITH HOLD cursor reads outside a transaction block",
          rc == 0 and data_rows(out) == emails[:2], (out, err))


def set_policies(mesh, files):
    path = pathlib.Path(mesh.mesh) / "mesh.yaml"
    path.write_text(re.sub(r"^policies: .*$", f"policies: {json.dumps(files)}",
                           path.read_text(), count=1, flags=re.M))
    mesh.run("apply")  # through the running server, which evaluates the policies


def check_quarantine(mesh):
    """The shadow catalog lists a quarantined product only where querying it is allowed."""
    def listed():
        rc, out, err = psql(mesh, "nora", "\\dt *.*")
        rc2, out2, err2 = psql(mesh, "nora", TABLES_SQL)
        return (rc == 0 and ("orders.orders", "orders") in {(r[0], r[1]) for r in rows_of(out)},
                rc2 == 0 and ["orders.orders", "orders"] in rows_of(out2), out + err + out2 + err2)

    dt, schema, detail = listed()
    check("before any quarantine nora lists orders.orders in \\dt and information_schema",
          dt and schema, detail)
    (pathlib.Path(mesh.mesh) / "governance").mkdir(exist_ok=True)
    (pathlib.Path(mesh.mesh) / "governance" / "quarantine.yaml").write_text(QUARANTINE_POLICY)
    set_policies(mesh, ["governance/quarantine.yaml"])
    rc, out, err = psql(mesh, "nora", "SELECT count(*) FROM orders.orders.orders")
    check("a quarantined product is refused to nora over the wire",
          rc != 0 and "quarantined" in err, out + err)
    dt, schema, detail = listed()
    check("a quarantined product is not listed to nora (\\dt, information_schema)",
          not dt and not schema, detail)
    set_policies(mesh, [])
    dt, schema, detail = listed()
    check("once the quarantine ends nora lists it again", dt and schema, detail)


def main():
    args = mesh_args()
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

        check_prepared_statements(mesh)
        check_cursors(mesh, emails)

        rc, out, err = psql(mesh, "nora", "DELETE FROM customers.customers.customers")
        check("a write is refused as in a read-only transaction", rc != 0 and "read-only" in err, err)
        rc, out, err = psql(mesh, "nora", "SELECT * FROM read_csv('/etc/passwd')")
        check("the SQL guard refuses a file read", rc != 0 and "root:" not in out, out + err)
        check_quarantine(mesh)
        rc, out, err = psql(mesh, "nora", "SET application_name = 'wire test'",
                            "SHOW application_name")
        check("SET and SHOW", rc == 0 and "wire test" in out, out + err)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
