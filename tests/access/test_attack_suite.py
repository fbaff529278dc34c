#!/usr/bin/env python3
"""Attempts to get around access control as a consumer, through every door.

nora (a user with country=NL and no grant) attacks the example mesh. Every SQL attack runs four
times: `plexus --token NORA query`, POST /api/v1/query with her bearer token, psycopg2 over
the PostgreSQL wire protocol (TLS, SCRAM, simple queries) and the extended query protocol
(Parse/Bind/Execute), the two wire doors on one connection each for the whole table. An
attack passes when it is refused (CLI exit 1 with a message; HTTP 4xx with a JSON error, never
500, never a crash; wire: an SQLSTATE error and the connection still answers) or answered with
only what nora may see: no raw email of the seed file, no customers row outside NL, no
customer lifetime value (she has no grant), no mask salt, no path of the home, no file of the
machine. Some attacks also need a specific answer (the masked view itself, every length 64,
no match against guessed raw values). wire_attacks.py adds what only the wire offers
(parameters, COPY TO STDOUT, several statements in one string, the catalog side, SET,
PREPARE, sign-in, rights changing under an open session). The HTTP-only attacks target the
access routes (requests, grants, principals, tokens, audit, private products). A second home
with an empty `access:` section checks that ports default to restricted.

The attacks are data (ATTACKS, HTTP_ATTACKS, wire_attacks.*_ATTACKS): one line per attack,
then the summary with the count per door. attack_rules.py holds the judging rule,
attack_doors.py the doors. psycopg2 is Debian's (python3-psycopg2 for /usr/bin/python3): the
suite re-runs itself under /usr/bin/python3 when the python3 that started it lacks it.
"""
import hashlib
import json
import os
import pathlib
import re
import shutil
import sqlite3
import sys
import tempfile
import time

DEBIAN_PYTHON = "/usr/bin/python3"
try:
    import psycopg2  # noqa: F401
except ImportError:  # Debian's python3-psycopg2 (scripts/bootstrap.sh) is /usr/bin/python3's
    if os.path.exists(DEBIAN_PYTHON) and \
            os.path.realpath(sys.executable) != os.path.realpath(DEBIAN_PYTHON):
        os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON, *sys.argv])
    raise SystemExit("FAIL  psycopg2 is not importable: run scripts/bootstrap.sh")

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from checks import RESULTS, check, make_private, mesh_args  # noqa: E402
from attack_doors import Extended, Plexus, Wire, start_server, stop_server, token_of  # noqa: E402
from attack_rules import (CLV, CUST, DOORS, PHYS, REFUSED, SAFE, Secrets,  # noqa: E402
                          all_masked, count_is, door_check, is_hash, judge, masked_view)
import cache_attacks  # noqa: E402
import wire_attacks  # noqa: E402


# --- the attacks ---------------------------------------------------------------------------------
# See attack_rules.py for what expect means.

def guessed_emails(s, n=None):
    """A VALUES list of the raw emails of the rows nora can see (and more)."""
    return ", ".join(f"('{e}')" for e in s.emails[:n])


def sql_list(values):
    return ", ".join(f"'{v}'" for v in values)


def md5_oracle(rows, s):
    raw = {hashlib.md5(e.encode()).hexdigest() for e in s.emails}
    return rows and all(r["m"] not in raw for r in rows)


def like_oracle(rows, s):
    return rows is not None and all(is_hash(r["email"]) and r["email"].startswith("a")
                                    for r in rows) and \
        {r["email"] for r in rows} == {h for h in s.nl_masked if h.startswith("a")}


def sorted_masked(rows, s):
    emails = [r["email"] for r in rows or []]
    return emails == sorted(s.nl_masked)


ATTACKS = [
    # The masked column through other shapes of query.
    ("SELECT * of the customers port is the masked, NL-only view",
     f"SELECT * FROM {CUST}", masked_view),
    ("masked column through a derived table",
     f"SELECT t.customer_id, t.email, t.country FROM (SELECT * FROM {CUST}) t", masked_view),
    ("masked column through a CTE",
     f"WITH x AS (SELECT * FROM {CUST}) SELECT customer_id, email, country FROM x", masked_view),
    ("a CTE named like the product (WITH customers AS ...)",
     f"WITH customers AS (SELECT * FROM {CUST}) SELECT customer_id, email, country FROM customers",
     masked_view),
    ("a CTE named like the name's parts does not shadow the port",
     f"WITH customers AS (SELECT 1 AS customer_id, 'x@y' AS email, 'US' AS country) "
     f"SELECT customer_id, email, country FROM {CUST}", masked_view),
    ("a CTE named like the restricted port's parts does not open it",
     f"WITH customer_lifetime_value AS (SELECT 1 AS x), marketing AS (SELECT 1 AS x) "
     f"SELECT * FROM {CLV}", REFUSED),
    ("a CTE named like the physical table does not open it",
     f"WITH customers__customers__v1 AS (SELECT 1 AS x) SELECT * FROM {PHYS}", REFUSED),
    ("a recursive CTE named like the restricted port",
     "WITH RECURSIVE customer_lifetime_value AS (SELECT * FROM customer_lifetime_value) "
     "SELECT * FROM customer_lifetime_value", REFUSED),
    ("masked column through UNION",
     f"SELECT email FROM {CUST} UNION SELECT 'nobody@example.com'",
     lambda rows, s: {r["email"] for r in rows} == s.nl_masked | {"nobody@example.com"}),
    ("masked column through a scalar subquery",
     f"SELECT (SELECT max(email) FROM {CUST}) AS e",
     lambda rows, s: rows[0]["e"] == max(s.nl_masked)),
    ("masked column through struct_pack",
     f"SELECT struct_pack(e := email).e AS e FROM {CUST}", all_masked("e")),
    ("masked column through a struct literal {'e': email}.e",
     f"SELECT ({{'e': email}}).e AS e FROM {CUST}", all_masked("e")),
    ("masked column through UNNEST([email])",
     f"SELECT UNNEST([email]) AS e FROM {CUST}", all_masked("e")),
    ("masked column through list_value",
     f"SELECT list_value(email)[1] AS e FROM {CUST}", all_masked("e")),
    ("the whole row as a struct and as JSON",
     f"SELECT c AS row, to_json(c) AS j FROM {CUST} c", SAFE),
    ("a LATERAL join re-reading the row",
     f"SELECT l.e FROM {CUST} c, LATERAL (SELECT c.email AS e) l", all_masked("e")),
    ("a window function over the masked column",
     f"SELECT lead(email) OVER (ORDER BY customer_id) AS e FROM {CUST}", all_masked("e")),
    ("a PIVOT by country shows no other country's names",
     f"PIVOT (SELECT customer_id, country, first_name FROM {CUST}) ON country IN ('NL', 'US', "
     "'DE', 'GB') USING max(first_name)", SAFE),
    ("column aliases on the port keep the mask",
     f"SELECT b AS customer_id, e AS email, f AS country FROM {CUST} AS t(b, c, d, e, f)",
     masked_view),
    ("TABLESAMPLE 100% keeps the mask and the filter",
     f"SELECT customer_id, email, country FROM {CUST} TABLESAMPLE 100%", masked_view),
    ("FROM-first syntax", f"FROM {CUST} SELECT customer_id, email, country", masked_view),
    ("COLUMNS('.*') star expression",
     f"SELECT COLUMNS('customer_id|email|country') FROM {CUST}", masked_view),
    ("the port by its version name", f"SELECT * FROM {CUST}__v1", masked_view),
    ("a correlated subquery probing another country",
     f"SELECT (SELECT count(*) FROM {CUST} c WHERE c.country = o.k) AS n "
     "FROM (VALUES ('US'), ('DE'), ('GB')) o(k)",
     lambda rows, s: len(rows) == 3 and all(r["n"] == 0 for r in rows)),
    ("rowid of the port (a hidden pseudo-column)", f"SELECT rowid, email FROM {CUST}", SAFE),
    ("a DESCRIBE in a subquery", f"SELECT * FROM (DESCRIBE {CUST})", REFUSED),
    ("a table function with a catalog", "SELECT * FROM system.main.duckdb_tables()", REFUSED),
    ("the system catalog's information_schema",
     "SELECT * FROM system.information_schema.tables", REFUSED),
    # SQL inside SQL.
    ("query() table function", f"SELECT * FROM query('SELECT * FROM {PHYS}')", REFUSED),
    ("query_table() table function", "SELECT * FROM query_table('customers__customers__v1')",
     REFUSED),
    ("PREPARE / EXECUTE", f"PREPARE p AS SELECT * FROM {PHYS}; EXECUTE p", REFUSED),
    ("PREPARE alone", f"PREPARE p AS SELECT email FROM {CUST}", REFUSED),
    ("two statements, the second one a file read",
     "SELECT 1; SELECT * FROM read_csv('/etc/passwd')", REFUSED),
    # Value oracles: the predicates only ever meet masked values.
    ("WHERE email LIKE 'a%' matches hashes, not raw emails",
     f"SELECT customer_id, email FROM {CUST} WHERE email LIKE 'a%'", like_oracle),
    ("GROUP BY email", f"SELECT email, count(*) AS n FROM {CUST} GROUP BY email",
     lambda rows, s: {r["email"] for r in rows} == s.nl_masked),
    ("ORDER BY email", f"SELECT email FROM {CUST} ORDER BY email", sorted_masked),
    ("min/max(email)", f"SELECT min(email) AS lo, max(email) AS hi FROM {CUST}",
     lambda rows, s: rows[0]["lo"] == min(s.nl_masked) and rows[0]["hi"] == max(s.nl_masked)),
    ("count(DISTINCT email) equals the masked distinct count",
     f"SELECT count(DISTINCT email) AS n FROM {CUST}", count_is(lambda s: len(s.nl_masked))),
    ("a join against guessed raw emails matches nothing",
     f"SELECT count(*) AS n FROM {CUST} c JOIN (VALUES {{guessed}}) g(e) ON c.email = g.e",
     count_is(0)),
    ("email IN (guessed raw emails) matches nothing",
     f"SELECT count(*) AS n FROM {CUST} WHERE email IN ({{guessed_list}})", count_is(0)),
    ("hash(email) against hash() of the raw values matches nothing",
     f"SELECT count(*) AS n FROM {CUST} WHERE hash(email) IN "
     "(SELECT hash(e) FROM (VALUES {guessed}) g(e))", count_is(0)),
    ("md5(email) differs from md5 of every raw value (computed in Python)",
     f"SELECT md5(email) AS m FROM {CUST}", md5_oracle),
    ("length(email) is 64 for every row (a hash, not the raw length)",
     f"SELECT length(email) AS n FROM {CUST}",
     lambda rows, s: rows and all(r["n"] == 64 for r in rows)),
    ("a row count through a predicate on hidden rows",
     f"SELECT count(*) AS n FROM {CUST} WHERE country <> 'NL'", count_is(0)),
    ("hidden customer ids do not answer",
     f"SELECT count(*) AS n FROM {CUST} WHERE customer_id IN ({{hidden_ids}})", count_is(0)),
    # The error channel.
    ("CAST(email AS INT) errors name no raw value", f"SELECT CAST(email AS INT) FROM {CUST}", SAFE),
    ("CAST(first_name AS INT) on other countries' rows",
     f"SELECT CAST(first_name AS INT) FROM {CUST} WHERE country <> 'NL'", SAFE),
    ("CAST(first_name AS INT) on hidden ids",
     f"SELECT CAST(first_name AS INT) AS x FROM {CUST} WHERE customer_id IN ({{hidden_ids}})",
     SAFE),
    ("CAST in a WHERE the optimizer may push down",
     f"SELECT * FROM {CUST} WHERE CAST(first_name AS INT) = 1 AND country = 'US'", SAFE),
    ("error() inside CASE over the rows the filter hides",
     f"SELECT CASE WHEN country <> 'NL' THEN error(first_name || ' ' || email) END AS x "
     f"FROM {CUST}", SAFE),
    ("a failing CAST in a join condition over hidden rows",
     f"SELECT count(*) AS n FROM {CUST} c JOIN (VALUES (1)) v(x) "
     "ON CAST(c.first_name AS INT) = v.x AND c.country <> 'NL'", SAFE),
    ("error() in a WHERE over hidden rows",
     f"SELECT count(*) FROM {CUST} WHERE CASE WHEN country = 'US' THEN error(first_name) "
     "ELSE true END", SAFE),
    # Predicates the guard copies into the derived table, on the raw column (ADR 0006, "Copied
    # predicates"): only a clear column compared with constants of its own type is copied, so
    # none of these may see a masked column's raw value, raise an error over a hidden row, or
    # change an answer.
    ("a copied id range over hidden ids answers nothing",
     f"SELECT count(*) AS n FROM {CUST} c WHERE c.customer_id BETWEEN {{hidden_id}} AND "
     "{hidden_id}", count_is(0)),
    ("a copied id = over a visible id answers that row, masked",
     f"SELECT c.customer_id, c.email, c.country FROM {CUST} c WHERE c.customer_id = {{visible_id}}",
     lambda rows, s: len(rows) == 1 and rows[0]["email"] == s.masked.get(rows[0]["customer_id"])),
    ("= on the masked column with a visible row's raw email matches nothing",
     f"SELECT count(*) AS n FROM {CUST} c WHERE c.email = '{{nl_email}}'", count_is(0)),
    ("a range on the masked column meets hashes only (all sort before 'g', raw emails not)",
     f"SELECT count(*) AS n FROM {CUST} WHERE email < 'g'",
     count_is(lambda s: len(s.nl_masked))),
    ("IN and IS NOT NULL on the masked column meet hashes only",
     f"SELECT count(*) AS n FROM {CUST} c WHERE c.email IN ('{{nl_email}}') "
     "AND c.email IS NOT NULL", count_is(0)),
    ("error() beside a copied predicate never fires for a hidden row",
     f"SELECT count(*) AS n FROM {CUST} c WHERE c.customer_id BETWEEN 0 AND 1000000 AND "
     "CASE WHEN c.country <> 'NL' THEN error(c.first_name) ELSE true END",
     count_is(lambda s: len(s.nl_ids))),
    ("error() in a copied predicate's constant is refused or safe",
     f"SELECT count(*) AS n FROM {CUST} c WHERE c.customer_id = error('x')::INT", SAFE),
    ("a failing CAST beside a copied predicate over hidden ids",
     f"SELECT CAST(c.first_name AS INT) AS x FROM {CUST} c WHERE c.customer_id IN "
     "({hidden_ids}) AND CAST(c.first_name AS INT) = 1", SAFE),
    ("a text column compared with a number (the column would be cast) is not copied",
     f"SELECT count(*) AS n FROM {CUST} WHERE first_name = 5", SAFE),
    ("an OR with a hidden-row condition keeps the hidden row out",
     f"SELECT count(*) AS n FROM {CUST} c WHERE c.customer_id = {{hidden_id}} OR "
     "c.customer_id = {visible_id}", count_is(1)),
    ("a copied predicate and an OR on the hidden country",
     f"SELECT count(*) AS n FROM {CUST} c WHERE c.customer_id BETWEEN 0 AND 1000000 AND "
     "(c.country = 'US' OR c.customer_id = {hidden_id})", count_is(0)),
    ("a select-list alias named like a column does not redirect the copy",
     f"SELECT email AS customer_id FROM {CUST} WHERE customer_id = {{hidden_id}}", 
     lambda rows, s: rows == []),
    ("IS NULL on the nullable side of a LEFT JOIN is not copied",
     f"SELECT count(*) AS n FROM (VALUES (1)) v(x) LEFT JOIN {CUST} c ON true "
     "WHERE c.customer_id IS NULL", count_is(0)),
    ("a copied date range keeps the filter",
     f"SELECT count(*) AS n FROM {CUST} c WHERE c.signup_date >= DATE '1900-01-01' "
     "AND c.country <> 'NL'", count_is(0)),
    ("an invalid date constant is an error that names no value",
     f"SELECT count(*) AS n FROM {CUST} c WHERE c.signup_date = DATE '2017-02-30'", SAFE),
    ("a copied predicate in a correlated subquery probing hidden ids",
     f"SELECT (SELECT count(*) FROM {CUST} c WHERE c.customer_id = o.k) AS n "
     "FROM (VALUES ({hidden_id})) o(k)", lambda rows, s: len(rows) == 1 and rows[0]["n"] == 0),
    # Metadata.
    ("EXPLAIN", f"EXPLAIN SELECT * FROM {CUST}", REFUSED),
    ("EXPLAIN ANALYZE", f"EXPLAIN ANALYZE SELECT * FROM {CUST}", REFUSED),
    ("SUMMARIZE", f"SUMMARIZE SELECT * FROM {CUST}", REFUSED),
    ("SUMMARIZE a table", f"SUMMARIZE {CUST}", REFUSED),
    ("DESCRIBE", f"DESCRIBE {CUST}", REFUSED),
    ("SHOW TABLES", "SHOW TABLES", REFUSED),
    ("pragma_storage_info", "SELECT * FROM pragma_storage_info('customers__customers__v1')",
     REFUSED),
    ("PRAGMA table_info", "PRAGMA table_info('customers__customers__v1')", REFUSED),
    ("duckdb_tables()", "SELECT * FROM duckdb_tables()", REFUSED),
    ("duckdb_columns()", "SELECT * FROM duckdb_columns()", REFUSED),
    ("duckdb_settings()", "SELECT * FROM duckdb_settings()", REFUSED),
    ("duckdb_databases()", "SELECT * FROM duckdb_databases()", REFUSED),
    ("information_schema.tables", "SELECT * FROM information_schema.tables", REFUSED),
    ("sqlite_master", "SELECT * FROM sqlite_master", REFUSED),
    ("pg_catalog.pg_tables", "SELECT * FROM pg_catalog.pg_tables", REFUSED),
    # File escapes.
    ("read_csv('/etc/passwd')", "SELECT * FROM read_csv('/etc/passwd')", REFUSED),
    ("read_csv_auto", "SELECT * FROM read_csv_auto('/etc/passwd')", REFUSED),
    ("read_parquet", "SELECT * FROM read_parquet('/etc/passwd')", REFUSED),
    ("read_json", "SELECT * FROM read_json('/etc/passwd')", REFUSED),
    ("read_text", "SELECT * FROM read_text('/etc/passwd')", REFUSED),
    ("read_blob", "SELECT * FROM read_blob('/etc/passwd')", REFUSED),
    ("glob('*')", "SELECT * FROM glob('*')", REFUSED),
    ("parquet_metadata", "SELECT * FROM parquet_metadata('/etc/passwd')", REFUSED),
    ("sniff_csv", "SELECT * FROM sniff_csv('/etc/passwd')", REFUSED),
    ("FROM '/etc/passwd'", "SELECT * FROM '/etc/passwd'", REFUSED),
    ("FROM '../../etc/passwd'", "SELECT * FROM '../../etc/passwd'", REFUSED),
    ("FROM '~/...' (the home directory)", "SELECT * FROM '~/.bashrc'", REFUSED),
    ("read_text('~/...')", "SELECT * FROM read_text('~/.bashrc')", REFUSED),
    ("a symlink to the home's catalog.db (read_blob)", "SELECT * FROM read_blob('{link}')",
     REFUSED),
    ("a symlink to the home's catalog.db (FROM 'path')", "SELECT * FROM '{link}'", REFUSED),
    ("a data file of the mesh by path", "SELECT * FROM '{seed_csv}'", REFUSED),
    ("a scalar file read (read_text as a subquery)",
     "SELECT (SELECT content FROM read_text('/etc/passwd')) AS x", REFUSED),
    # Writes and extensions.
    ("COPY ... TO a file", f"COPY (SELECT * FROM {CUST}) TO '{{out}}/copy.csv'", REFUSED),
    ("COPY a physical table TO a file", f"COPY {PHYS} TO '{{out}}/copy2.csv'", REFUSED),
    ("EXPORT DATABASE", "EXPORT DATABASE '{out}/export'", REFUSED),
    ("ATTACH the catalog", "ATTACH '{link}' AS stolen", REFUSED),
    ("ATTACH a new file", "ATTACH '{out}/new.db' AS mine", REFUSED),
    ("DETACH a domain's database", "DETACH plx_customers", REFUSED),
    ("USE a domain's database", "USE plx_customers", REFUSED),
    ("INSTALL an extension", "INSTALL httpfs", REFUSED),
    ("LOAD an extension", "LOAD httpfs", REFUSED),
    ("CREATE TABLE", "CREATE TABLE t AS SELECT 1 AS x", REFUSED),
    ("CREATE VIEW over the physical table", f"CREATE VIEW v AS SELECT * FROM {PHYS}", REFUSED),
    ("CREATE MACRO shadowing a function", "CREATE MACRO lower(x) AS x", REFUSED),
    ("CREATE SECRET", "CREATE SECRET s (TYPE S3, KEY_ID 'a', SECRET 'b')", REFUSED),
    ("INSERT into a port",
     f"INSERT INTO {CUST} VALUES (999, 'a', 'b', 'c', 'NL', DATE '2020-01-01')", REFUSED),
    ("UPDATE a port", f"UPDATE {CUST} SET country = 'NL'", REFUSED),
    ("DELETE from a port", f"DELETE FROM {CUST}", REFUSED),
    ("DROP a port", f"DROP TABLE {PHYS}", REFUSED),
    ("CHECKPOINT / VACUUM", "VACUUM", REFUSED),
    # Settings and secrets.
    ("SET enable_external_access", "SET enable_external_access = true", REFUSED),
    ("SET allowed_directories", "SET allowed_directories = ['/']", REFUSED),
    ("SET lock_configuration", "SET lock_configuration = false", REFUSED),
    ("SET home_directory", "SET home_directory = '/'", REFUSED),
    ("SET memory_limit", "SET memory_limit = '1GB'", REFUSED),
    ("SET threads", "SET threads = 1", REFUSED),
    ("RESET enable_external_access", "RESET enable_external_access", REFUSED),
    ("PRAGMA threads", "PRAGMA threads = 1", REFUSED),
    ("CALL a pragma", "CALL pragma_version()", REFUSED),
    ("duckdb_secrets()", "SELECT * FROM duckdb_secrets()", REFUSED),
    ("current_setting('allowed_directories')", "SELECT current_setting('allowed_directories')",
     REFUSED),
    ("current_setting('home_directory')", "SELECT current_setting('home_directory')", REFUSED),
    ("getenv('HOME')", "SELECT getenv('HOME')", REFUSED),
    ("principal functions are not the consumer's",
     f"SELECT principal_attr('country') AS c FROM {CUST}", REFUSED),
    # The physical names.
    ("the physical table name alone", "SELECT * FROM customers__customers__v1", REFUSED),
    ("the physical three-part name", f"SELECT * FROM {PHYS}", REFUSED),
    ("the physical name, quoted",
     'SELECT * FROM "plx_customers"."main"."customers__customers__v1"', REFUSED),
    ("the physical name, two parts", "SELECT * FROM plx_customers.customers__customers__v1",
     REFUSED),
    ("the physical name as a replacement scan", "SELECT * FROM 'customers__customers__v1'",
     REFUSED),
    ("the physical name in a scalar subquery",
     f"SELECT (SELECT max(email) FROM {PHYS}) AS e", REFUSED),
    ("the physical name in EXISTS",
     f"SELECT 1 WHERE EXISTS (SELECT 1 FROM {PHYS} WHERE email LIKE 'a%')", REFUSED),
    ("time travel on a port", f"SELECT * FROM {CUST} AT (VERSION => 1)", REFUSED),
    # The restricted port (nora has no grant).
    ("the restricted CLV port", f"SELECT * FROM {CLV}", REFUSED),
    ("CLV through a subquery in WHERE",
     f"SELECT count(*) FROM {CUST} WHERE customer_id IN (SELECT customer_id FROM {CLV})", REFUSED),
    ("CLV through EXISTS (a yes/no oracle)",
     f"SELECT 1 WHERE EXISTS (SELECT 1 FROM {CLV} WHERE lifetime_value > 100)", REFUSED),
    ("CLV in a UNION's second branch",
     f"SELECT customer_id FROM {CUST} UNION ALL SELECT customer_id FROM {CLV}", REFUSED),
    ("CLV by its version name", f"SELECT * FROM {CLV}__v1", REFUSED),
    ("CLV's physical table",
     "SELECT * FROM plx_marketing.main.customer_lifetime_value__customer_lifetime_value__v1",
     REFUSED),
    # Fail-open configurations.
    ("a name differing only in case gives the same masked view",
     "SELECT * FROM CUSTOMERS.Customers.CUSTOMERS", masked_view),
    ("a name differing only in case does not open CLV",
     "SELECT * FROM MARKETING.Customer_Lifetime_Value.CUSTOMER_LIFETIME_VALUE", REFUSED),
    ("the quoted port name as one part", 'SELECT * FROM "customers.customers.customers"',
     REFUSED),
    ("a private product is unknown (payments.payments.payments)",
     "SELECT * FROM payments.payments.payments",
     (REFUSED, "unknown data product port payments.payments.payments")),
    ("a private product through a CTE and a join",
     "WITH p AS (SELECT * FROM payments.payments.payments) SELECT count(*) FROM p "
     "JOIN orders.orders.orders o USING (order_id)",
     (REFUSED, "unknown data product port payments.payments.payments")),
]


def fill(sql, ctx):
    return (sql.replace("{guessed}", guessed_emails(ctx["secrets"]))
            .replace("{guessed_list}", sql_list(ctx["secrets"].emails))
            .replace("{hidden_ids}", ", ".join(map(str, ctx["secrets"].hidden_ids)))
            .replace("{hidden_id}", str(ctx["secrets"].hidden_ids[0]))
            .replace("{visible_id}", str(min(ctx["secrets"].nl_ids)))
            .replace("{nl_email}", ctx["secrets"].raw_email(min(ctx["secrets"].nl_ids)))
            .replace("{link}", ctx["link"]).replace("{out}", ctx["out"])
            .replace("{seed_csv}", ctx["seed_csv"]))


def run_sql_attacks(px, http, wire, ext, nora, ctx):
    """Every attack through the four doors: the CLI, HTTP, psycopg2's simple queries and the
    extended protocol by hand (both on one connection each, kept across attacks)."""
    doors = (("cli ", lambda sql: px.query(sql, nora)), ("http", lambda sql: http.query(sql, nora)),
             ("wire", wire.query), ("ext ", ext.run))
    for name, sql, expect in ATTACKS:
        sql = fill(sql, ctx)
        for door, ask in doors:
            wire_side = door in ("wire", "ext ")
            rule = wire_attacks.WIRE_EXPECT.get(name, expect) if wire_side else expect
            why = judge(ask(sql), rule, ctx["secrets"])
            door_check(door, name, not why, why)
    check("no attack wrote a file", os.listdir(ctx["out"]) == [], os.listdir(ctx["out"]))
    check("the server still answers /healthz after the SQL attacks", http.healthy())
    check(f"the wire connections were opened once each, psycopg2's over TLS (psycopg2 "
          f"{wire.reopened}, extended {ext.opened})",
          wire.reopened == 1 and ext.opened == 1 and wire.tls is True)


# --- who is asking: tokens and principals --------------------------------------------------------

def run_sign_in_attacks(px, http, tokens):
    sql = f"SELECT customer_id, email, country FROM {CUST}"
    cases = [("an unknown principal's token (well formed)", "plx_abcdefgh_" + "x" * 43),
             ("a garbage token", "' OR 1=1 --"),
             ("an empty token", "")]
    for name, token in cases:
        answer = px.query(sql, token)
        check(f"[cli ] {name} is refused", answer.refused and not answer.problem,
              answer.text[:300])
        status, body = http.call("POST", "/api/v1/query", token, {"sql": sql})
        check(f"[http] {name} is 401", status == 401, (status, body))
    answer = px.query(sql, None, env_token="")
    check("[cli ] an empty PLEXUS_TOKEN is refused (not the local admin)", answer.refused,
          answer.text[:300])
    for name, headers in [("no Authorization header", {}),
                          ("a Basic Authorization header", {"Authorization": "Basic YTpi"}),
                          ("a bare 'Bearer'", {"Authorization": "Bearer"})]:
        status, body = http.call("POST", "/api/v1/query", None, {"sql": sql}, headers=headers)
        check(f"[http] {name} is 401", status == 401, (status, body))
    answer = px.query(sql, tokens["quoted"])
    check("[cli ] an attribute holding a quote is a value, not SQL (no rows)",
          answer.rows == [] or (answer.refused and not answer.problem), answer.text[:300])
    status, body = http.call("POST", "/api/v1/query", tokens["quoted"], {"sql": sql})
    check("[http] an attribute holding a quote is a value, not SQL (no rows)",
          (status == 200 and body == []) or 400 <= status < 500, (status, body))
    # A revoked token and a disabled principal's token stop at once.
    spare = token_of(px.run("token", "issue", token=tokens["nora"], check_ok=True))
    spare_id = spare.split("_")[1]
    px.run("token", "revoke", spare_id, token=tokens["nora"], check_ok=True)
    answer = px.query(sql, spare)
    check("[cli ] a revoked token is refused", answer.refused and not answer.problem,
          answer.text[:300])
    status, body = http.call("POST", "/api/v1/query", spare, {"sql": sql})
    check("[http] a revoked token is 401", status == 401, (status, body))
    px.run("principal", "disable", "olga", check_ok=True)
    answer = px.query(sql, tokens["olga"])
    check("[cli ] a disabled principal's token is refused", answer.refused and not answer.problem,
          answer.text[:300])
    status, body = http.call("POST", "/api/v1/query", tokens["olga"], {"sql": sql})
    check("[http] a disabled principal's token is 401", status == 401, (status, body))
    answer = px.query(sql, tokens["nocountry"])
    check("[cli ] a principal without a country attribute sees no customers rows",
          not answer.refused and answer.rows == [], answer.text[:300])
    status, body = http.call("POST", "/api/v1/query", tokens["nocountry"], {"sql": sql})
    check("[http] a principal without a country attribute sees no customers rows",
          status == 200 and body == [], (status, body))


# --- the access routes (HTTP) and their CLI twins -----------------------------------------------

def run_http_attacks(px, http, t, ids):
    nora = t["nora"]
    unknown_status, unknown_body = http.call("GET", "/api/v1/products/nope.nope", nora)
    attacks = [
        # (name, method, path, body, accepted statuses)
        ("read another principal's access request by id", "GET",
         f"/api/v1/access/requests/{ids['olga_request']}", None, {403, 404}),
        ("approve her own request as a non-owner", "POST",
         f"/api/v1/access/requests/{ids['nora_request']}/approve", None, {403}),
        ("approve another's request as a non-owner", "POST",
         f"/api/v1/access/requests/{ids['olga_request']}/approve", None, {403, 404}),
        ("deny another's request", "POST",
         f"/api/v1/access/requests/{ids['olga_request']}/deny", None, {403, 404}),
        ("grant herself access", "POST", "/api/v1/access/grants",
         {"target": "marketing.customer_lifetime_value", "grantee": "nora", "purpose": "me"},
         {403}),
        ("grant her group access", "POST", "/api/v1/access/grants",
         {"target": "marketing.customer_lifetime_value", "grantee": "global_analysts",
          "grantee_kind": "group", "purpose": "us"}, {403}),
        ("revoke another's grant", "DELETE", f"/api/v1/access/grants/{ids['olga_grant']}", None,
         {403, 404}),
        ("a request setting principal", "POST", "/api/v1/access/requests",
         {"target": "marketing.customer_lifetime_value", "purpose": "p", "principal": "grace"},
         {400}),
        ("a request setting status", "POST", "/api/v1/access/requests",
         {"target": "marketing.customer_lifetime_value", "purpose": "p", "status": "approved"},
         {400}),
        ("a request setting grant_id", "POST", "/api/v1/access/requests",
         {"target": "marketing.customer_lifetime_value", "purpose": "p", "grant_id": 1}, {400}),
        ("create a principal as a non-admin", "POST", "/api/v1/principals",
         {"name": "mallory", "admin": True}, {403}),
        ("set her own country attribute", "PUT", "/api/v1/principals/nora/attributes/country",
         {"value": "US"}, {403}),
        ("join privacy_officers", "POST", "/api/v1/principals/nora/groups/privacy_officers", {},
         {403}),
        ("join global_analysts", "POST", "/api/v1/principals/nora/groups/global_analysts", {},
         {403}),
        ("create a token for another principal", "POST", "/api/v1/tokens",
         {"principal": "grace"}, {403}),
        ("list another principal's tokens", "GET", "/api/v1/tokens?principal=grace", None,
         {403}),
        ("revoke another principal's token", "DELETE", f"/api/v1/tokens/{ids['grace_token']}",
         None, {403, 404}),
        ("read the audit trail as a non-admin", "GET", "/api/v1/audit", None, {403}),
        ("verify the audit trail as a non-admin", "GET", "/api/v1/audit/verify", None, {403}),
        ("query with \"as\" another principal", "POST", "/api/v1/query",
         {"sql": "SELECT 1", "as": "grace"}, {403}),
        ("query with ?as= another principal", "POST", "/api/v1/query?as=grace&format=json",
         {"sql": "SELECT 1"}, {403}),
        ("request access to a private product", "POST", "/api/v1/access/requests",
         {"target": "payments.payments", "purpose": "p"}, {404}),
        ("a path escape in a product name", "GET", "/api/v1/products/..%2F..%2Fetc%2Fpasswd",
         None, {404}),
        ("a body over the size limit", "POST", "/api/v1/query",
         {"sql": "SELECT '" + "x" * (1 << 20) + "'"}, {413}),
    ]
    for name, method, path, body, accepted in attacks:
        status, answer = http.call(method, path, nora, body)
        json_error = isinstance(answer, dict) and "error" in answer
        router = status in (404, 413) and answer == ""  # httplib's own answer: no route, too big
        check(f"[http] {name}: {status}", status in accepted and (json_error or router),
              (status, answer))

    status, body = http.call("GET", "/api/v1/products", nora)
    names = [p["name"] for p in body.get("products", [])] if isinstance(body, dict) else []
    check("[http] GET /api/v1/products does not list the private product",
          status == 200 and "payments.payments" not in names and "orders.orders" in names,
          (status, names))
    def as_unknown(body, name):
        """The answer with the name the caller wrote put back to nope.nope: the caller's own
        words may be echoed, nothing else may differ from an unknown product's answer."""
        return json.loads(json.dumps(body).replace(name, "nope.nope"))

    status, body = http.call("GET", "/api/v1/products/payments.payments", nora)
    check("[http] GET /api/v1/products/payments.payments is 404 like an unknown product",
          status == unknown_status == 404 and as_unknown(body, "payments.payments") == unknown_body,
          (status, body, unknown_body))
    status, body = http.call("GET", f"/api/v1/products/{ids['payments_id']}", nora)
    check("[http] the private product by its id is 404 like an unknown product",
          status == 404 and as_unknown(body, ids["payments_id"]) == unknown_body, (status, body))
    answers = []
    for target in ("payments.payments", "nopedomain.nope"):
        status, body = http.call("POST", "/api/v1/access/requests", nora,
                                 {"target": target, "purpose": "p"})
        answers.append((status, json.dumps(body).replace(target, "NAME")))
    check("[http] a request for the private product reads like one for an unknown product",
          answers[0] == answers[1] and answers[0][0] == 404, answers)
    status, body = http.call("POST", "/api/v1/access/grants", t["grace"],
                             {"target": "customers.customers", "grantee": "nora",
                              "purpose": "overreach"})
    check("[http] an owner (grace) cannot grant another domain's product", status == 403,
          (status, body))
    status, body = http.call("GET", "/api/v1/access/grants?all=true", nora)
    grants = body.get("grants", []) if isinstance(body, dict) else []
    grantees = {g["grantee"] for g in grants}
    check("[http] grants?all=true lists only her own", status == 200 and "olga" not in grantees,
          (status, body))
    status, body = http.call("GET", "/api/v1/access/requests", nora)
    requests = body.get("requests", []) if isinstance(body, dict) else []
    owners = {r["principal"] for r in requests}
    check("[http] the requests list holds only her own", status == 200 and owners == {"nora"},
          (status, body))

    # The CLI doors to the same changes.
    for name, args in [("set her own country", ["principal", "set", "nora", "country=US"]),
                       ("join privacy_officers", ["group", "add", "privacy_officers", "nora"]),
                       ("grant herself access", ["access", "grant",
                                                 "marketing.customer_lifetime_value", "--to",
                                                 "nora", "--purpose", "me"]),
                       ("approve her own request", ["access", "approve",
                                                    str(ids["nora_request"])]),
                       ("issue a token for grace", ["token", "issue", "grace"]),
                       ("read the audit trail", ["audit"]),
                       ("create a principal", ["principal", "create", "mallory", "--admin"])]:
        proc = px.run(*args, token=nora)
        check(f"[cli ] {name} is refused", proc.returncode == 1 and "plx_" not in proc.stdout,
              proc.stdout + proc.stderr)
    me = http.call("GET", "/api/v1/me", nora)[1]
    check("nora is still NL and in no group after all that",
          me.get("attributes") == {"country": "NL"} and me.get("groups") == [], me)
    answer = px.query(f"SELECT count(*) AS n FROM {CLV}", nora)
    check("nora still cannot read CLV after all that", answer.refused, answer.text[:300])


# --- a mesh whose access: section is empty -------------------------------------------------------

def empty_access(mesh, section):
    """mesh.yaml with `section` for its access: rules. With no mask rules the personal and
    confidential columns are unmasked, which the built-in sensitive-masked policy refuses at
    apply: this mesh switches it off, as a mesh may (what is tested here is the access layer's
    defaults)."""
    with open(os.path.join(mesh, "mesh.yaml")) as f:
        text = f.read()
    with open(os.path.join(mesh, "mesh.yaml"), "w") as f:
        f.write(text[:text.index("access:")] + section +
                "governance:\n  policies:\n    sensitive-masked: off\n")


def run_empty_access_mesh(binary, mesh_src, work):
    mesh, home = os.path.join(work, "mesh-open"), os.path.join(work, "home-open")
    shutil.copytree(mesh_src, mesh)
    empty_access(mesh, "access:\n")
    px = Plexus(binary, mesh, home)
    px.run("generate", check_ok=True)
    refused = px.run("apply")
    check("a bare `access:` with nothing under it is refused at apply (nothing applied)",
          refused.returncode != 0 and "access" in refused.stderr, refused.stderr)
    empty_access(mesh, "access: {}\n")
    orders = os.path.join(mesh, "domains/orders/orders/contracts/orders.odcs.yaml")
    with open(orders) as f:
        contract = f.read()
    contract = re.sub(r"customProperties:\n  - property: visibility\n    value: public\n", "",
                      contract)
    with open(orders, "w") as f:
        f.write(contract)
    px.run("apply", check_ok=True)
    ran = px.run("run", "--all")
    check("access: {}: marketing's pipeline cannot read the now restricted orders port",
          ran.returncode != 0 and "orders.orders.orders" in ran.stdout + ran.stderr
          and "restricted" in ran.stdout + ran.stderr, ran.stdout + ran.stderr)
    nora = token_of(px.run("principal", "create", "nora", "--attr", "country=NL", "--token",
                           check_ok=True))
    server, http, _ = start_server(px)
    try:
        for name, sql in [("a port without visibility (CLV) defaults to restricted",
                           f"SELECT * FROM {CLV}"),
                          ("orders without its visibility property defaults to restricted",
                           "SELECT * FROM orders.orders.orders")]:
            for door, answer in (("cli ", px.query(sql, nora)), ("http", http.query(sql, nora))):
                check(f"[{door}] access: {{}}: {name}",
                      answer.refused and not answer.problem and "restricted" in answer.text,
                      answer.text[:300])
        answer = px.query("SELECT count(*) AS n FROM payments.payments.payments", nora)
        check("[cli ] access: {}: an explicitly public port still reads",
              not answer.refused, answer.text[:300])
    finally:
        stop_server(server)


# --- set-up --------------------------------------------------------------------------------------

PASSWORDS = {"nora": "nora-wire-secret", "olga": "olga-wire-secret", "wendy": "wendy-wire-secret"}


def set_up(px, mesh, home):
    """The example mesh run and applied, payments made private, the principals with their
    tokens and passwords; (tokens, ids of requests, grants and products)."""
    for step in (["generate"], ["apply"], ["run", "--all"]):
        px.run(*step, check_ok=True)
    make_private(mesh, "payments")  # after the run: marketing's pipeline reads payments
    px.run("apply", check_ok=True)

    tokens = {"grace": token_of(px.run("token", "issue", "grace", check_ok=True))}
    for name, attrs in [("nora", ["--attr", "country=NL"]), ("olga", ["--attr", "country=DE"]),
                        ("nocountry", []), ("quoted", ["--attr", "country=NL' OR 'a'='a"]),
                        ("wendy", ["--attr", "country=DE"])]:
        tokens[name] = token_of(px.run("principal", "create", name, *attrs, "--token",
                                       check_ok=True))
    for name, password in PASSWORDS.items():
        px.run("principal", "password", name, stdin=password + "\n", check_ok=True)
    ids = {}
    made = px.run("access", "request", "marketing.customer_lifetime_value", "--purpose",
                  "olga's study", token=tokens["olga"], check_ok=True)
    ids["olga_request"] = int(re.search(r"#(\d+)", made.stdout).group(1))
    made = px.run("access", "request", "marketing.customer_lifetime_value", "--purpose",
                  "nora's study", token=tokens["nora"], check_ok=True)
    ids["nora_request"] = int(re.search(r"#(\d+)", made.stdout).group(1))
    for name in ("olga", "wendy"):
        made = px.run("access", "grant", "marketing.customer_lifetime_value", "--to", name,
                      "--purpose", "support", token=tokens["grace"], check_ok=True)
        ids[f"{name}_grant"] = int(re.search(r"#(\d+)", made.stdout).group(1))
    listed = px.run("token", "list", "grace", check_ok=True).stdout.split()
    ids["grace_token"] = listed[0] if listed else "x"
    db = sqlite3.connect(os.path.join(home, "catalog.db"))
    ids["payments_id"] = db.execute("SELECT id FROM products WHERE name = 'payments'")\
        .fetchone()[0]
    db.close()
    return tokens, ids


def check_audit(px):
    denied = px.run("audit", "--principal", "nora", "--action", "query", "--decision", "deny",
                    "--limit", "10000").stdout.splitlines()
    refusals = sum(2 for a in ATTACKS if a[2] == REFUSED or isinstance(a[2], tuple))
    check(f"the audit trail holds nora's refused queries ({len(denied)} >= {refusals})",
          len(denied) >= refusals, len(denied))
    verified = px.run("audit", "verify")
    check("the audit chain is intact after the attacks", verified.returncode == 0,
          verified.stdout + verified.stderr)


def main():
    args = mesh_args()
    binary = os.path.abspath(args.plexus)
    work = tempfile.mkdtemp(prefix="plexus-attacks-")
    server, started = None, time.monotonic()
    try:
        mesh, home = os.path.join(work, "mesh"), os.path.join(work, "home")
        shutil.copytree(args.mesh, mesh)
        px = Plexus(binary, mesh, home)
        tokens, ids = set_up(px, mesh, home)
        out = os.path.join(work, "out")
        os.mkdir(out)
        link = os.path.join(work, "link.db")
        os.symlink(os.path.join(home, "catalog.db"), link)
        ctx = {"secrets": Secrets(mesh, home), "link": link, "out": out, "passwords": PASSWORDS,
               "seed_csv": os.path.join(mesh, "domains/customers/customers/data/customers.csv")}

        server, http, pg_port = start_server(px)
        wire = Wire(pg_port, "nora", PASSWORDS["nora"])
        ext = Extended(pg_port, "nora", PASSWORDS["nora"])
        try:
            run_sql_attacks(px, http, wire, ext, tokens["nora"], ctx)
            wire_attacks.run(wire, ext, pg_port, ctx)
            wire_attacks.run_audit_checks(px, wire, ctx)
            check("no wire attack wrote a file", os.listdir(out) == [], os.listdir(out))
        finally:
            wire.close()
            ext.close()
        wire_attacks.run_open_session_attacks(px, pg_port, PASSWORDS["wendy"], tokens["grace"],
                                              ids["wendy_grant"], ctx["secrets"])
        run_http_attacks(px, http, tokens, ids)
        run_sign_in_attacks(px, http, tokens)
        wire_attacks.run_sign_in_attacks(pg_port, tokens, PASSWORDS)
        cache_attacks.run(px, http, lambda name: Wire(pg_port, name, PASSWORDS[name]),
                                tokens, ids, ctx, mesh)
        check_audit(px)
        answer = wire.query("SELECT 1 AS one")
        wire.close()
        check("the server still answers /healthz and a new wire connection at the end",
              http.healthy() and server.poll() is None and answer.rows == [{"one": 1}],
              answer.text)
        run_empty_access_mesh(binary, args.mesh, work)
        print(f"{len(ATTACKS)} SQL attacks, each over the CLI, HTTP, psycopg2 and the extended "
              "protocol; per door (passed/failed): " +
              ", ".join(f"{door} {p}/{f}" for door, (p, f) in DOORS.items()))
    finally:
        if server is not None:
            stop_server(server)
        shutil.rmtree(work, ignore_errors=True)
        print(f"{RESULTS['passed']} passed, {RESULTS['failed']} failed "
              f"in {time.monotonic() - started:.0f} s")
    sys.exit(1 if RESULTS["failed"] else 0)


if __name__ == "__main__":
    main()
