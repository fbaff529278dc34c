"""Attacks only the PostgreSQL wire protocol offers, as nora (see test_attack_suite.py).

- Parameters that guess raw values or carry SQL, through the extended protocol
  (attack_doors.Extended; psycopg2 interpolates its parameters in the client and sends simple
  queries, so this is where values travel apart from the SQL), COPY (SELECT ...) TO STDOUT, several
  statements in one string, the catalog side (pg_catalog, information_schema, psql's \\dt),
  SET/RESET/PREPARE that try to change what the guard sees, sign-in without the right
  password (raw SCRAM, to read the SQLSTATE), rights that change while a session is open, and
  the audit trail of what the wire refuses before the guard.

Each attack passes on the suite's rule (refused with an SQLSTATE and the connection still
usable, or answered with nothing nora may not see), and never drops the connection.
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "wire"))
from attack_doors import Wire  # noqa: E402
from attack_rules import CLV, CUST, PHYS, REFUSED, SAFE, door_check, judge, masked_view  # noqa: E402
from test_wire_protocol import Client, ServerError  # noqa: E402


def lists_nothing_hidden(rows, s):
    return rows is not None and not hidden_in([json.dumps(rows, default=str)])


# Attacks of the suite that the wire answers on purpose, the way PostgreSQL does: the catalog
# (a per-principal one holding no data: checked to list nothing hidden), the catalog's own
# settings, and PREPARE of a statement the guard accepts (EXECUTE runs it through the guard).
WIRE_EXPECT = {
    "information_schema.tables": (SAFE, lists_nothing_hidden),
    "pg_catalog.pg_tables": (SAFE, lists_nothing_hidden),
    "current_setting('allowed_directories')": SAFE,
    "current_setting('home_directory')": SAFE,
    "PREPARE alone": SAFE,
}


# --- statements on one session: SET and friends, then what they tried to change -----------------
# (name, statements run in order on nora's connection, expect for the last one). The statements
# before the last must be refused or harmless too; ROLLBACK and RESET ALL follow each.

SESSION_ATTACKS = [
    ("SET ROLE to CLV's owner", ["SET ROLE grace", f"SELECT * FROM {CLV}"], REFUSED),
    ("SET ROLE, quoted", ['SET "role" TO \'grace\'', f"SELECT * FROM {CLV}"], REFUSED),
    ("SET LOCAL ROLE in a transaction",
     ["BEGIN", "SET LOCAL ROLE grace", f"SELECT * FROM {CLV}"], REFUSED),
    ("SET SESSION AUTHORIZATION", ["SET SESSION AUTHORIZATION grace", f"SELECT * FROM {CLV}"],
     REFUSED),
    ("SET session_authorization as a parameter",
     ["SET session_authorization = 'grace'", f"SELECT * FROM {CLV}"], REFUSED),
    ("set_config('role', ...)", ["SELECT set_config('role', 'grace', false)",
                                 f"SELECT * FROM {CLV}"], REFUSED),
    ("a custom parameter plexus.principal",
     ["SET plexus.principal = 'grace'", f"SELECT * FROM {CLV}"], REFUSED),
    ("application_name set to an owner", ["SET application_name = 'grace'",
                                          f"SELECT * FROM {CLV}"], REFUSED),
    ("search_path to a domain's database, then the physical table",
     ["SET search_path = 'plx_customers.main'", "SELECT * FROM customers__customers__v1"],
     REFUSED),
    ("search_path TO plx_customers, main", ["SET search_path TO plx_customers, main",
                                            "SELECT email FROM customers__customers__v1"], REFUSED),
    ("search_path to the product's schema, then the port alone",
     ['SET search_path = "customers.customers"', "SELECT customer_id, email, country FROM customers"],
     SAFE),
    ("search_path to the restricted product's schema",
     ['SET search_path = "marketing.customer_lifetime_value"',
      "SELECT * FROM customer_lifetime_value"], REFUSED),
    ("SET enable_external_access, then a file",
     ["SET enable_external_access = true", "SELECT * FROM read_csv('/etc/passwd')"], REFUSED),
    ("set_config(enable_external_access), then a file",
     ["SELECT set_config('enable_external_access', 'true', false)",
      "SELECT * FROM read_csv('/etc/passwd')"], REFUSED),
    ("default_transaction_read_only off, then a write",
     ["SET default_transaction_read_only = off", "CREATE TABLE t AS SELECT 1 AS x"], REFUSED),
    ("BEGIN READ WRITE, then a write", ["BEGIN READ WRITE", "CREATE TABLE t AS SELECT 1 AS x"],
     REFUSED),
    ("SET TRANSACTION READ WRITE, then an INSERT",
     ["BEGIN", "SET TRANSACTION READ WRITE",
      f"INSERT INTO {CUST} VALUES (999, 'a', 'b', 'c', 'NL', DATE '2020-01-01')"], REFUSED),
    ("PREPARE of the physical table, then EXECUTE",
     [f"PREPARE p1 AS SELECT * FROM {PHYS}", "EXECUTE p1"], REFUSED),
    ("PREPARE of the restricted port, then EXECUTE",
     [f"PREPARE p2 AS SELECT * FROM {CLV}", "EXECUTE p2"], REFUSED),
    ("PREPARE of a file read, then EXECUTE",
     ["PREPARE p3 AS SELECT * FROM read_csv('/etc/passwd')", "EXECUTE p3"], REFUSED),
    ("PREPARE of the port, then EXECUTE (the masked view or nothing)",
     [f"PREPARE p4 AS SELECT customer_id, email, country FROM {CUST}", "EXECUTE p4"],
     (SAFE, lambda rows, s: rows == [] or masked_view(rows, s))),
    ("PREPARE with a parameter, EXECUTE with a raw email",
     [f"PREPARE p5(text) AS SELECT count(*) AS n FROM {CUST} WHERE email = $1",
      "EXECUTE p5('{raw_email}')"], (SAFE, lambda rows, s: rows in ([], [{"n": 0}]))),
    ("PREPARE with a parameter, EXECUTE with SQL in it",
     [f"PREPARE p6(text) AS SELECT count(*) AS n FROM {CUST} WHERE country = $1",
      "EXECUTE p6('NL'' OR country <> ''NL')"], (SAFE, lambda rows, s: rows in ([], [{"n": 0}]))),
    ("EXECUTE of a name never prepared", ["EXECUTE nothing_here"], REFUSED),
    ("RESET ALL keeps her who she is", ["RESET ALL", f"SELECT * FROM {CUST}"], masked_view),
    ("DISCARD ALL keeps her who she is", ["DISCARD ALL", f"SELECT * FROM {CUST}"], masked_view),
    ("a failed transaction, rolled back, keeps her who she is",
     ["BEGIN", f"SELECT * FROM {PHYS}", "ROLLBACK", f"SELECT * FROM {CUST}"], masked_view),
]

# Several statements in one simple-query string (psycopg2 answers the last one's rows).
MULTI_ATTACKS = [
    ("SELECT 1, then the physical table", f"SELECT 1; SELECT * FROM {PHYS}", REFUSED),
    ("SELECT 1, then the restricted port", f"SELECT 1; SELECT * FROM {CLV}", REFUSED),
    ("the port, then the physical table", f"SELECT * FROM {CUST}; SELECT email FROM {PHYS}",
     REFUSED),
    ("a catalog query, then a file", "SELECT relname FROM pg_catalog.pg_class; "
     "SELECT * FROM read_csv('/etc/passwd')", REFUSED),
    ("SET, then ATTACH", "SET search_path = 'plx_customers.main'; ATTACH '{link}' AS stolen",
     REFUSED),
    ("BEGIN; the physical table; COMMIT", f"BEGIN; SELECT * FROM {PHYS}; COMMIT", REFUSED),
    ("a separator inside a comment", "SELECT 1 /* ; */; SELECT * FROM read_csv('/etc/passwd')",
     REFUSED),
    ("a separator inside a dollar-quoted string", f"SELECT $$;$$ AS x; SELECT * FROM {PHYS}",
     REFUSED),
    ("an E'' string ending in an escaped quote", f"SELECT E'\\'; SELECT * FROM {PHYS}; --' AS x",
     SAFE),
    ("a string holding a separator and a quote", f"SELECT 'a;'' ; SELECT * FROM {PHYS}' AS x",
     lambda rows, s: rows == [{"x": f"a;' ; SELECT * FROM {PHYS}"}]),
    ("a nested block comment", f"SELECT 1 /* /* */ ; SELECT * FROM {PHYS}; */ AS x", SAFE),
    ("empty statements around the physical table", f";;SELECT 1;; SELECT * FROM {PHYS};",
     REFUSED),
    ("PREPARE of the physical table then EXECUTE in one string",
     f"PREPARE m1 AS SELECT * FROM {PHYS}; EXECUTE m1", REFUSED),
    ("PREPARE of the port then EXECUTE in one string (the masked view)",
     f"PREPARE m2 AS SELECT customer_id, email, country FROM {CUST}; EXECUTE m2",
     (SAFE, masked_view)),
]


def no_engine_settings(rows, s):
    names = {str(r.get("name")).lower() for r in rows or []}
    return rows is not None and not names & {"allowed_directories", "home_directory",
                                              "enable_external_access", "temp_directory"}


def not_home(rows, s):
    home = os.environ.get("HOME", "/root")
    return all(r.get("h") in (None, "") or r.get("h") != home for r in rows or [])


def no_verifier(rows, s):
    return rows is not None and "SCRAM-SHA-256$" not in json.dumps(rows, default=str)


# The catalog side: answered from the per-principal catalog (no data, no files) or refused.
CATALOG_ATTACKS = [
    ("pg_catalog.pg_class is answered", "SELECT relname FROM pg_catalog.pg_class",
     lambda rows, s: rows is not None and len(rows) > 0),
    ("pg_class next to read_csv", "SELECT * FROM pg_catalog.pg_class, read_csv('/etc/passwd')",
     REFUSED),
    ("pg_class next to a file path", "SELECT * FROM pg_catalog.pg_class, '/etc/passwd'", SAFE),
    ("pg_class whose WHERE reads a file", "SELECT relname FROM pg_catalog.pg_class WHERE relname "
     "IN (SELECT content FROM read_text('/etc/passwd'))", SAFE),
    ("read_csv called as pg_catalog.read_csv", "SELECT * FROM pg_catalog.read_csv('/etc/passwd')",
     SAFE),
    ("read_text called as information_schema.read_text",
     "SELECT * FROM information_schema.read_text('/etc/passwd')", SAFE),
    ("duckdb_settings() called as pg_catalog.duckdb_settings()",
     "SELECT * FROM pg_catalog.duckdb_settings()", SAFE),
    ("duckdb_settings() joined to pg_class",
     "SELECT * FROM pg_catalog.pg_class c JOIN duckdb_settings() s ON true", SAFE),
    ("current_setting('home_directory') beside pg_class",
     "SELECT current_setting('home_directory') AS h FROM pg_catalog.pg_class LIMIT 1", SAFE),
    ("getenv('HOME') beside pg_class",
     "SELECT getenv('HOME') AS h FROM pg_catalog.pg_class LIMIT 1", (SAFE, not_home)),
    ("query() beside pg_class", f"SELECT * FROM pg_catalog.pg_class, query('SELECT * FROM {PHYS}')",
     REFUSED),
    ("query() in a scalar subquery of a catalog query",
     f"SELECT (SELECT count(*) FROM query('SELECT * FROM {PHYS}')) AS n FROM pg_catalog.pg_class",
     SAFE),
    ("the physical table in EXISTS of a catalog query",
     f"SELECT relname FROM pg_catalog.pg_class WHERE EXISTS (SELECT 1 FROM {PHYS})", REFUSED),
    ("a CTE named pg_class over the physical table",
     f"WITH pg_class AS (SELECT * FROM {PHYS}) SELECT * FROM pg_class", REFUSED),
    ("a CTE named pg_class over the physical name alone",
     "WITH pg_class AS (SELECT * FROM customers__customers__v1) SELECT * FROM pg_class", REFUSED),
    ("a CTE named pg_class over the restricted port",
     f"WITH pg_class AS (SELECT * FROM {CLV}) SELECT * FROM pg_class", REFUSED),
    ("a CTE named pg_class over the customers port (still masked)",
     f"WITH pg_class AS (SELECT * FROM {CUST}) SELECT customer_id, email, country FROM pg_class",
     masked_view),
    ("pg_read_file", "SELECT pg_read_file('/etc/passwd')", SAFE),
    ("pg_ls_dir", "SELECT * FROM pg_ls_dir('/')", SAFE),
    ("lo_import", "SELECT lo_import('/etc/passwd')", SAFE),
    ("ATTACH from a catalog-looking string", "ATTACH '{link}' AS pg_catalog2", REFUSED),
    ("pg_settings holds no engine setting", "SELECT name, setting FROM pg_catalog.pg_settings",
     (SAFE, no_engine_settings)),
    ("current_user is nora", "SELECT current_user AS u, session_user AS s",
     lambda rows, s: rows == [{"u": "nora", "s": "nora"}]),
    ("pg_authid holds no password verifier", "SELECT * FROM pg_catalog.pg_authid", (SAFE, no_verifier)),
    ("pg_roles holds no password verifier", "SELECT * FROM pg_catalog.pg_roles", (SAFE, no_verifier)),
    ("pg_shadow", "SELECT * FROM pg_catalog.pg_shadow", (SAFE, no_verifier)),
    ("pg_stat_activity", "SELECT * FROM pg_catalog.pg_stat_activity", SAFE),
    ("the port by its pg name is the masked view",
     'SELECT customer_id, email, country FROM "customers.customers".customers', masked_view),
    ("the port's pg name in other case", 'SELECT * FROM "CUSTOMERS.CUSTOMERS".CUSTOMERS', SAFE),
    ("the port's pg name with its version", 'SELECT * FROM "customers.customers".customers__v1',
     SAFE),
    ("the physical table with a dotted quoted schema",
     'SELECT * FROM "plx_customers.main".customers__customers__v1', REFUSED),
    ("the restricted port's pg name", 'SELECT * FROM "marketing.customer_lifetime_value"'
     ".customer_lifetime_value", REFUSED),
    ("the private port's pg name", 'SELECT * FROM "payments.payments".payments',
     (REFUSED, "unknown data product port payments.payments.payments")),
]


def run_statements(wire, name, statements, expect, secrets):
    """Runs statements in order on one connection; the last is judged by expect."""
    answers = [wire.query(sql) for sql in statements]
    why = ""
    for sql, answer in zip(statements[:-1], answers[:-1]):
        why = judge(answer, SAFE, secrets)
        if why:
            why = f"{sql!r}: {why}"
            break
    why = why or judge(answers[-1], expect, secrets)
    for cleanup in ("ROLLBACK", "RESET ALL", "DEALLOCATE ALL"):
        wire.query(cleanup)
    door_check("wire", name, not why, why)


def run_session_attacks(wire, ctx):
    fill = lambda sql: sql.replace("{link}", ctx["link"]).replace(  # noqa: E731
        "{raw_email}", ctx["secrets"].emails[0])
    for name, statements, expect in SESSION_ATTACKS:
        run_statements(wire, name, [fill(sql) for sql in statements], expect, ctx["secrets"])
    for name, sql, expect in MULTI_ATTACKS + CATALOG_ATTACKS:
        run_statements(wire, name, [fill(sql)], expect, ctx["secrets"])


# --- COPY (SELECT ...) TO STDOUT ------------------------------------------------------------------

def copy_masked(rows, s):
    return masked_view([{k: r[k] for k in ("customer_id", "email", "country")} for r in rows], s)


COPY_ATTACKS = [
    ("COPY (SELECT ...) of the port is the masked view",
     f"COPY (SELECT customer_id, email, country FROM {CUST}) TO STDOUT WITH (FORMAT csv, HEADER)",
     copy_masked),
    ("COPY of the port by its pg name is the masked view",
     'COPY "customers.customers".customers TO STDOUT WITH (FORMAT csv, HEADER)', copy_masked),
    ("COPY with a column list keeps the mask",
     f"COPY {CUST} (customer_id, email, country) TO STDOUT WITH (FORMAT csv, HEADER)",
     copy_masked),
    ("COPY of other countries' rows is empty",
     f"COPY (SELECT * FROM {CUST} WHERE country <> 'NL') TO STDOUT WITH (FORMAT csv, HEADER)",
     lambda rows, s: rows == []),
    ("COPY of the physical table", f"COPY {PHYS} TO STDOUT", REFUSED),
    ("COPY (SELECT) of the physical table", f"COPY (SELECT * FROM {PHYS}) TO STDOUT", REFUSED),
    ("COPY of the restricted port", f"COPY (SELECT * FROM {CLV}) TO STDOUT", REFUSED),
    ("COPY of the restricted port by its pg name",
     'COPY "marketing.customer_lifetime_value".customer_lifetime_value TO STDOUT', REFUSED),
    ("COPY of a file", "COPY (SELECT * FROM read_csv('/etc/passwd')) TO STDOUT", REFUSED),
    ("COPY of the catalog file", "COPY (SELECT * FROM read_blob('{link}')) TO STDOUT", REFUSED),
    ("COPY (a query with a separator) TO STDOUT",
     f"COPY (SELECT 1; SELECT * FROM {PHYS}) TO STDOUT", REFUSED),
    ("COPY the port TO a file", f"COPY {CUST} TO '{{out}}/wire.csv'", REFUSED),
    ("COPY the port TO PROGRAM", f"COPY {CUST} TO PROGRAM 'id > {{out}}/id.txt'", REFUSED),
    ("COPY ... FROM STDIN into a port", f"COPY {CUST} FROM STDIN", REFUSED),
    ("COPY with options that name a file",
     f"COPY (SELECT 1) TO STDOUT WITH (FORMAT csv, HEADER); COPY {CUST} TO '{{out}}/x.csv'",
     SAFE),
]


def run_copy_attacks(wire, ctx):
    for name, sql, expect in COPY_ATTACKS:
        sql = sql.replace("{link}", ctx["link"]).replace("{out}", ctx["out"])
        answer = wire.query(sql) if "FROM STDIN" in sql else wire.copy(sql)
        why = judge(answer, expect, ctx["secrets"])
        door_check("wire", name, not why, why)


# --- the extended protocol: values apart from the SQL ----------------------------------------------

def run_parameter_attacks(ext, ctx):
    s = ctx["secrets"]
    count_by_email = f"SELECT count(*) AS n FROM {CUST} WHERE email = $1"
    counts = [ext.run(count_by_email, [e]) for e in s.emails]
    door_check("ext ", "every raw email as a $1 parameter matches nothing",
               all(not a.refused and a.rows == [{"n": 0}] for a in counts),
               [a.text for a in counts if a.rows != [{"n": 0}]][:3])
    binary = ext.run(f"SELECT count(*) AS n FROM {CUST} WHERE email = $1::VARCHAR",
                     [s.emails[0].encode()], binary_params=True)
    hidden = "{" + ",".join(map(str, s.hidden_ids)) + "}"
    cases = [
        ("a raw email as a binary parameter matches nothing", binary, lambda r, _: r == [{"n": 0}]),
        ("a quote in a parameter is a value", ext.run(count_by_email, ["x' OR '1'='1"]),
         lambda r, _: r == [{"n": 0}]),
        ("SQL in an integer parameter is refused or a value",
         ext.run(f"SELECT customer_id, email, country FROM {CUST} WHERE customer_id = $1",
                 ["1 OR 1=1"]), SAFE),
        ("another country as a parameter answers nothing",
         ext.run(f"SELECT * FROM {CUST} WHERE country = $1", ["US"]), lambda r, _: r == []),
        ("a parameter closing the quote answers nothing",
         ext.run(f"SELECT * FROM {CUST} WHERE country = $1", ["NL' OR country <> 'NL"]),
         lambda r, _: r == []),
        ("hidden ids as an array parameter answer nothing",
         ext.run(f"SELECT customer_id FROM {CUST} WHERE customer_id IN (SELECT unnest($1::INT[]))",
                 [hidden]), (SAFE, lambda r, _: r == [])),
        ("SQL in a text parameter comes back as text",
         ext.run("SELECT $1::VARCHAR AS x", [f"'; SELECT * FROM {PHYS}; --"]),
         lambda r, _: r == [{"x": f"'; SELECT * FROM {PHYS}; --"}]),
        ("query($1) with the physical table", ext.run("SELECT * FROM query($1)",
                                                      [f"SELECT * FROM {PHYS}"]), REFUSED),
        ("query_table($1)", ext.run("SELECT * FROM query_table($1)", ["customers__customers__v1"]),
         REFUSED),
        ("read_csv($1)", ext.run("SELECT * FROM read_csv($1)", ["/etc/passwd"]), REFUSED),
        ("read_text($1) of the catalog", ext.run("SELECT * FROM read_text($1)", [ctx["link"]]),
         REFUSED),
        ("Describe of the restricted port tells nothing",
         ext.run(f"SELECT * FROM {CLV}", describe_only=True), REFUSED),
        ("Describe of the physical table tells nothing",
         ext.run(f"SELECT * FROM {PHYS}", describe_only=True), REFUSED),
        ("binary results keep the mask",
         ext.run(f"SELECT customer_id, email, country FROM {CUST}", binary_results=True),
         masked_view),
        ("a row limit keeps the mask and the filter",
         ext.run(f"SELECT customer_id, email, country FROM {CUST} ORDER BY customer_id",
                 max_rows=3), lambda r, sec: len(r) == 3 and all(
                     x["customer_id"] in sec.nl_ids and x["email"] in sec.nl_masked for x in r)),
        ("more parameters than placeholders", ext.run("SELECT $1::INT AS x", ["1", "2"]), REFUSED),
        ("fewer parameters than placeholders", ext.run(count_by_email, []), REFUSED),
        ("a NULL parameter", ext.run(count_by_email, [None]), lambda r, _: r == [{"n": 0}]),
        ("a parameter that is not UTF-8", ext.run(count_by_email, [b"\xff\xfe"]), SAFE),
    ]
    for name, answer, expect in cases:
        why = judge(answer, expect, s)
        if not why and "('lifetime_value'" in answer.text:
            why = "the restricted port's columns were described: " + answer.text[:300]
        door_check("ext ", name, not why, why)


# --- what the catalog lists -------------------------------------------------------------------------

LISTINGS = {
    "schemas (pg_namespace)": "SELECT nspname AS name FROM pg_catalog.pg_namespace",
    "schemas (information_schema)": "SELECT schema_name AS name FROM information_schema.schemata",
    "relations (pg_class)": "SELECT relname AS name FROM pg_catalog.pg_class",
    "tables (pg_tables)": "SELECT schemaname || '.' || tablename AS name FROM pg_catalog.pg_tables",
    "tables (information_schema)":
        "SELECT table_schema || '.' || table_name AS name FROM information_schema.tables",
    "columns (information_schema)":
        "SELECT table_name || '.' || column_name AS name FROM information_schema.columns",
    "columns (pg_attribute)": "SELECT attname AS name FROM pg_catalog.pg_attribute",
    "descriptions (pg_description)": "SELECT description AS name FROM pg_catalog.pg_description",
}
# What must not appear: the restricted port (no grant) and the private product, by name, by
# column and by description; nora's visible product must.
HIDDEN_MARKERS = ["customer_lifetime_value", "lifetime_value", "most_recent_order_date",
                  "The day of the customer's first order", "payments.payments", "payment_method",
                  "payment_id", "How it was paid"]


def hidden_in(names):
    found = []
    for name in names:
        text = str(name)
        if "they are in payments.payments.payments" in text:  # orders' own description says it
            text = text.replace("payments.payments.payments", "")
        found += [m for m in HIDDEN_MARKERS if m in text]
    return sorted(set(found))


def run_listing_checks(wire, pg_port, password):
    everything = []
    for what, sql in LISTINGS.items():
        answer = wire.query(sql)
        names = [r["name"] for r in answer.rows or []]
        everything += names
        found = hidden_in(names)
        door_check("wire", f"{what} lists no restricted or private port",
                   not answer.refused and not found, found or answer.text[:300])
    door_check("wire", "the catalog does list nora's customers port",
               "customers.customers" in everything and "customers" in everything)
    psql = shutil.which("psql")
    if psql is None:
        door_check("wire", "psql is installed (scripts/bootstrap.sh)", False)
        return
    env = dict(os.environ, PGPASSWORD=password, PGSSLMODE="require")
    for meta in (r"\dt *.*", r"\dn", r"\d *.*", r'\d "marketing.customer_lifetime_value".*',
                 r'\dt "payments.payments".*'):
        proc = subprocess.run([psql, "-h", "127.0.0.1", "-p", str(pg_port), "-U", "nora", "-d",
                               "plexus", "-X", "-c", meta], capture_output=True, text=True,
                              timeout=60, env=env)
        found = hidden_in([proc.stdout])
        door_check("wire", f"psql {meta} shows no restricted or private port",
                   proc.returncode in (0, 1) and "server closed" not in proc.stderr and not found,
                   found or proc.stdout + proc.stderr)
        if meta == r"\dt *.*":
            door_check("wire", r"psql \dt *.* lists nora's customers port",
                       "customers.customers | customers" in proc.stdout, proc.stdout[-300:])


# --- signing in ----------------------------------------------------------------------------------

def sign_in(port, user, password, tls=True, database="plexus"):
    """Signs in by hand (TLS, SCRAM): ('connected', '') or the refusal's (SQLSTATE, message)."""
    client = None
    try:
        client = Client(port, user, password, tls=tls, startup=False)
        client.startup(user, database)
        client.scram(user, password)
    except ServerError as e:
        return e.fields.get("C", ""), e.fields.get("M", "")
    except (OSError, ConnectionError, AssertionError) as e:
        return "dropped", repr(e)
    finally:
        if client is not None:
            client.close()
    return "connected", ""


def run_sign_in_attacks(pg_port, tokens, passwords):
    """Every way in but the right password of an enabled principal."""
    wrong = sign_in(pg_port, "nora", "not-her-password")
    door_check("wire", "a wrong password is refused with 28P01",
               wrong[0] == "28P01" and "nora" in wrong[1], wrong)
    cases = [
        ("another principal (grace) with nora's password", "grace", passwords["nora"]),
        ("an unknown principal", "mallory", passwords["nora"]),
        ("a disabled principal (olga) with her own password", "olga", passwords["olga"]),
        ("a token instead of a password (nora's token)", "nora", tokens["nora"]),
        ("a token instead of a password (grace's, who has none)", "grace", tokens["grace"]),
        ("a user name holding SQL", "nora' OR '1'='1", passwords["nora"]),
        ("the home's admin with an empty password", "admin", ""),
        ("nora with an empty password", "nora", ""),
    ]
    for name, user, password in cases:
        answer = sign_in(pg_port, user, password)
        door_check("wire", f"{name} is refused like a wrong password",
                   answer[0] == "28P01" and answer[1].replace(user, "nora") == wrong[1], answer)
    answer = sign_in(pg_port, "nora", passwords["nora"], tls=False)
    door_check("wire", "without TLS: refused (28000) before any password", answer[0] == "28000",
               answer)
    answer = sign_in(pg_port, "nora", passwords["nora"], database="postgres")
    door_check("wire", "another database: 3D000", answer[0] == "3D000", answer)
    answer = sign_in(pg_port, "nora", passwords["nora"])
    door_check("wire", "nora herself still signs in", answer[0] == "connected", answer)


def signed_in_as(pg_port, password, options):
    """Signs nora in with extra startup parameters; (the countries she sees, CLV answer)."""
    wire = Wire(pg_port, "nora", password)
    wire.dsn += " " + options
    try:
        who = wire.query(f"SELECT DISTINCT country FROM {CUST}")
        clv = wire.query(f"SELECT * FROM {CLV}")
    finally:
        wire.close()
    return who, clv


def run_startup_attacks(pg_port, password, secrets):
    for name, options in [("options -c role=grace", "options='-c role=grace'"),
                          ("options -c session_authorization=grace",
                           "options='-c session_authorization=grace'"),
                          ("application_name=grace", "application_name=grace")]:
        who, clv = signed_in_as(pg_port, password, options)
        why = judge(clv, REFUSED, secrets) or ("" if who.rows == [{"country": "NL"}] else who.text)
        door_check("wire", f"startup {name}: still nora, CLV still refused", not why, why)


def run_open_session_attacks(px, pg_port, password, grace_token, grant_id, secrets):
    """wendy (DE, a grant on CLV) stays connected while her rights change: each change holds
    at her next statement, as it does for the CLI and HTTP."""
    wire = Wire(pg_port, "wendy", password)
    try:
        answer = wire.query(f"SELECT count(*) AS n FROM {CLV}")
        door_check("wire", "wendy reads CLV with her grant", not answer.refused, answer.text[:300])
        wire.query(f"PREPARE held AS SELECT count(*) AS n FROM {CLV}")
        px.run("access", "revoke", str(grant_id), token=grace_token, check_ok=True)
        answer = wire.query("EXECUTE held")
        why = judge(answer, (SAFE, lambda rows, s: rows == []), secrets)
        door_check("wire", "a statement prepared before the grant was revoked does not run after",
                   not why, why)
        answer = wire.query(f"SELECT count(*) AS n FROM {CLV}")
        why = judge(answer, REFUSED, secrets)
        door_check("wire", "a grant revoked while connected stops at the next statement",
                   not why, why)
        answer = wire.query("SELECT relname AS name FROM pg_catalog.pg_class")
        door_check("wire", "the revoked port leaves her catalog listing",
                   not answer.refused and "customer_lifetime_value" not in answer.text,
                   answer.text[:300])
        px.run("principal", "set", "wendy", "country=NL", check_ok=True)
        answer = wire.query(f"SELECT DISTINCT country FROM {CUST}")
        door_check("wire", "an attribute changed while connected holds at the next statement",
                   answer.rows == [{"country": "NL"}], answer.text[:300])
        px.run("principal", "disable", "wendy", check_ok=True)
        answer = wire.query(f"SELECT count(*) AS n FROM {CUST}")
        door_check("wire", "a principal disabled while connected is refused at the next statement",
                   answer.refused, answer.text[:300])
    finally:
        wire.close()


# Refusals the wire answers before the guard must reach the audit trail like the guard's.
AUDIT_PROBES = ["ATTACH '{link}' AS stolen", "SET ROLE grace", "SET SESSION AUTHORIZATION grace",
                "CREATE TABLE t AS SELECT 1 AS x", f"COPY {CUST} TO '{{out}}/audit.csv'",
                "INSTALL httpfs", f"SELECT * FROM {PHYS}"]


def run_audit_checks(px, wire, ctx):
    for i, sql in enumerate(AUDIT_PROBES):
        wire.query(sql.replace("{link}", ctx["link"]).replace("{out}", ctx["out"]) +
                   f" /* audit probe {i} */")
    listed = px.run("audit", "--principal", "nora", "--text", "audit probe", "--decision",
                    "deny", "--limit", "100").stdout
    for i, sql in enumerate(AUDIT_PROBES):
        door_check("wire", f"the audit trail holds the refused {' '.join(sql.split()[:2])}",
                   f"audit probe {i} */" in listed, listed[-300:])


def run(wire, ext, pg_port, ctx):
    """The wire-only attacks as nora on her two open connections."""
    run_session_attacks(wire, ctx)
    run_copy_attacks(wire, ctx)
    run_parameter_attacks(ext, ctx)
    run_listing_checks(wire, pg_port, ctx["passwords"]["nora"])
    run_startup_attacks(pg_port, ctx["passwords"]["nora"], ctx["secrets"])
