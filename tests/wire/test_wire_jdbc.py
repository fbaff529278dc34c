#!/usr/bin/env python3
"""The PostgreSQL JDBC driver (Debian libpostgresql-jdbc-java, Java 17) against `plexus serve`,
over TLS with SCRAM-SHA-256: DatabaseMetaData lists only what nora may see, the cross-domain
query equals the CLI's answer, a PreparedStatement with a parameter (named server-side
statement, executed three times), nora's masked emails, and a write refused with 25006.
"""
import pathlib
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from checks import check, summary, mesh_args  # noqa: E402
from wire_mesh import (CROSS_SQL, EMAIL_SQL, PARAM_SQL, PASSWORDS, WireMesh, is_hash,  # noqa: E402
                       normalise, require)

JAR = "/usr/share/java/postgresql.jar"


def main():
    args = mesh_args()
    require("java", "java (openjdk-17-jdk-headless)")
    require(JAR, "the PostgreSQL JDBC driver (libpostgresql-jdbc-java)")
    program = str(pathlib.Path(__file__).resolve().parent / "WireJdbc.java")
    with WireMesh(args.plexus, args.mesh) as mesh:
        mesh.grant_nora()
        customer_id = mesh.cli_rows("SELECT min(customer_id) AS id FROM customers.customers.customers",
                                    mesh.nora_token)[0]["id"]
        proc = subprocess.run(["java", "-cp", JAR, program, str(mesh.pg_port), "nora",
                               PASSWORDS["nora"], CROSS_SQL, PARAM_SQL, EMAIL_SQL, str(customer_id)],
                              capture_output=True, text=True, timeout=180)
        check("the JDBC program runs", proc.returncode == 0, proc.stdout + proc.stderr)
        out = dict(line.split("\t", 1) for line in proc.stdout.splitlines() if "\t" in line)
        check("the driver sees a PostgreSQL server", out.get("product", "").startswith("PostgreSQL"),
              out.get("product"))
        schemas = out.get("schemas", "").split(";")
        check("getSchemas lists one schema per visible product",
              "customers.customers" in schemas and "marketing.customer_lifetime_value" in schemas,
              schemas)
        tables = out.get("tables", "").split(";")
        check("getTables lists the visible ports",
              "customers.customers.customers" in tables
              and "marketing.customer_lifetime_value.customer_lifetime_value" in tables, tables)
        columns = out.get("columns", "")
        check("getColumns lists a port's columns with types",
              "customer_id:" in columns and "email:" in columns, columns)

        def table(text):
            return [r.split("|") for r in text.split(";") if r]
        cli = normalise(mesh.cli_rows(CROSS_SQL, mesh.nora_token))
        check("cross-domain query equals the CLI's answer",
              normalise(table(out.get("cross", ""))) == cli and len(cli) > 0, (out.get("cross"), cli))
        cli_param = normalise(mesh.cli_rows(PARAM_SQL.replace("$1", str(customer_id)),
                                            mesh.nora_token))
        check("a PreparedStatement with a parameter equals the CLI's answer, three times",
              all(normalise(table(out.get(f"param{i}", ""))) == cli_param for i in range(3))
              and len(cli_param) == 1, (out, cli_param))
        emails = table(out.get("emails", ""))
        check("nora sees emails hashed and only NL customers",
              emails and all(is_hash(e) and c == "NL" for e, c in emails), emails[:3])
        check("a write is refused with SQLSTATE 25006", out.get("write") == "25006", out.get("write"))
    return summary()


if __name__ == "__main__":
    sys.exit(main())
