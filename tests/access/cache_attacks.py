"""Attacks on the query service's cache of accepted statements (and on any later cache of
rewrites: a statement that differs from a seen one only in integer literals must never reuse an
answer or a rewrite it may not have). Run by test_attack_suite.py over HTTP and the wire, on one server,
so a cache entry made by one request is there for the next.

Each probe first makes the cache entry (same text but for an integer literal), then changes who
asks or what they may see, and checks the answer follows the change: the cache key must hold the
principal with its attributes and groups, and the catalog generation.
"""
import pathlib
import re

from attack_doors import token_of
from attack_rules import CLV, CUST, REFUSED, door_check, judge


def shaped(n, alias="v"):
    """A customers statement whose only varying part is the integer literal n."""
    return f"SELECT customer_id, email, country, {n} AS {alias} FROM {CUST} ORDER BY customer_id"


def rows_of(answer):
    return answer.rows or []


def run_principal_probes(ask, tokens, secrets, door):
    """Another principal, and a principal whose attributes or groups change."""
    olive_asks = lambda sql: ask(sql, tokens["olive"])  # noqa: E731
    nora_asks = lambda sql: ask(sql, tokens["nora"])  # noqa: E731
    answer = olive_asks(f"SELECT customer_id, 11 AS v FROM {CLV} LIMIT 1")
    door_check(door, "cache: olive reads CLV with her grant", not answer.refused,
               answer.text[:200])
    answer = nora_asks(f"SELECT customer_id, 12 AS v FROM {CLV} LIMIT 1")
    why = judge(answer, REFUSED, secrets)
    door_check(door, "cache: olive's cached CLV shape does not open it to nora", not why, why)
    olive = olive_asks(shaped(13))
    nora = nora_asks(shaped(14))
    door_check(door, "cache: olive's cached customers shape gives nora only NL rows",
               not olive.refused and {r["country"] for r in rows_of(olive)} == {"DE"} and
               {r["country"] for r in rows_of(nora)} == {"NL"} and
               all(r["v"] == 14 for r in rows_of(nora)),
               nora.text[:200])


def run_literal_probes(ask, token, secrets, door):
    """Literals the guard or DuckDB consult (positions, function arguments, LIMIT) must never
    be taken from a cached shape: each answer equals the one the text asks for."""
    one = ask(f"SELECT email, country FROM {CUST} ORDER BY 2, 1 LIMIT 3", token)
    two = ask(f"SELECT email, country FROM {CUST} ORDER BY 3, 1 LIMIT 3", token)
    door_check(door, "cache: ORDER BY 3 of two columns is an error, not a cached answer",
               not one.refused and two.refused, two.text[:200])
    for n in (2, 4):
        answer = ask(f"SELECT email FROM {CUST} ORDER BY email LIMIT {n}", token)
        door_check(door, f"cache: LIMIT {n} answers {n} rows", len(rows_of(answer)) == n,
                   answer.text[:200])
    first = ask(f"SELECT list_extract([email, country], 1) AS x FROM {CUST} LIMIT 1", token)
    second = ask(f"SELECT list_extract([email, country], 2) AS x FROM {CUST} LIMIT 1", token)
    door_check(door, "cache: a function argument literal is not a parameter",
               rows_of(second) == [{"x": "NL"}] and rows_of(first) != rows_of(second),
               second.text[:200])
    for n in (3, 5):
        answer = ask(f"SELECT 1 AS v FROM range({n})", token)
        door_check(door, f"cache: range({n}) answers {n} rows", len(rows_of(answer)) == n,
                   answer.text[:200])
    hidden = ask(f"SELECT customer_id, 7 AS v FROM {CUST} WHERE customer_id = "
                 f"{secrets.hidden_ids[0]}", token)
    door_check(door, "cache: a hidden row stays hidden with a new literal",
               not hidden.refused and rows_of(hidden) == [], hidden.text[:200])


def run_type_probes(ask, token, door):
    """A literal keeps its own type: a value past INTEGER is a BIGINT, as without the cache."""
    for n, kind in ((5, "INTEGER"), (3000000000, "BIGINT"), (6, "INTEGER")):
        answer = ask(f"SELECT {n} AS v FROM {CUST} LIMIT 1", token)
        door_check(door, f"cache: {n} ({kind}) comes back as {n}",
                   rows_of(answer) == [{"v": n}], answer.text[:200])


def set_mask(mesh, mask):
    path = pathlib.Path(mesh) / "mesh.yaml"
    text = path.read_text()
    path.write_text(text.replace("      mask: hash\n", f"      mask: {mask}\n", 1))


def run_change_probes(px, ask, tokens, ids, mesh, door):
    """Rights change between two statements of one shape: each change holds at the next."""
    answer = ask(shaped(21), tokens["nora"])
    door_check(door, "cache: nora sees her rows hashed",
               {r["country"] for r in rows_of(answer)} == {"NL"} and
               all(len(r["email"]) == 64 for r in rows_of(answer)), answer.text[:200])
    px.run("principal", "set", "nora", "country=DE", check_ok=True)
    answer = ask(shaped(22), tokens["nora"])
    door_check(door, "cache: an attribute change holds for a cached shape",
               {r["country"] for r in rows_of(answer)} == {"DE"}, answer.text[:200])
    px.run("principal", "set", "nora", "country=NL", check_ok=True)
    set_mask(mesh, "redact")
    px.run("apply", check_ok=True)
    answer = ask(shaped(23), tokens["nora"])
    door_check(door, "cache: a mask change holds for a cached shape",
               rows_of(answer) and all(r["email"] == "****" for r in rows_of(answer)),
               answer.text[:200])
    set_mask(mesh, "hash")
    px.run("apply", check_ok=True)
    answer = ask(f"SELECT customer_id, 31 AS v FROM {CLV} LIMIT 1", tokens["olive"])
    door_check(door, "cache: olive's CLV shape before the revocation", not answer.refused,
               answer.text[:200])


def run(px, http, wire_for, tokens, ids, ctx, mesh):
    """The cache attacks over HTTP, then over a fresh wire connection; the grant revocation
    last. olive is a DE reader with a CLV grant of her own."""
    secrets = ctx["secrets"]
    # olive: a DE reader with a grant on CLV, her own (the other attacks disable olga)
    olive = token_of(px.run("principal", "create", "olive", "--attr", "country=DE", "--token",
                            check_ok=True))
    made = px.run("access", "grant", "marketing.customer_lifetime_value", "--to", "olive",
                  "--purpose", "shape cache probes", token=tokens["grace"], check_ok=True)
    olive_grant = re.search(r"#(\d+)", made.stdout).group(1)
    tokens = dict(tokens, olive=olive)
    http_ask = http.query
    run_principal_probes(http_ask, tokens, secrets, "http")
    run_literal_probes(http_ask, tokens["nora"], secrets, "http")
    run_type_probes(http_ask, tokens["nora"], "http")
    run_change_probes(px, http_ask, tokens, ids, mesh, "http")
    wire = wire_for("nora")
    try:
        wire_ask = lambda sql, token: wire.query(sql)  # noqa: E731
        run_literal_probes(wire_ask, None, secrets, "wire")
        run_type_probes(wire_ask, None, "wire")
    finally:
        wire.close()
    px.run("access", "revoke", olive_grant, token=tokens["grace"], check_ok=True)
    answer = http.query(f"SELECT customer_id, 32 AS v FROM {CLV} LIMIT 1", tokens["olive"])
    why = judge(answer, REFUSED, secrets)
    door_check("http", "cache: a revoked grant holds for a cached shape", not why, why)
    listed = px.run("audit", "--principal", "nora", "--text", "22 AS v FROM", "--limit",
                    "10").stdout
    door_check("http", "cache: the audit trail holds the statement as sent",
               "22 AS v FROM" in listed, listed[-300:])
    audit_ok = px.run("audit", "verify").returncode == 0
    door_check("http", "cache: the audit chain is intact", audit_ok)
