#!/usr/bin/env python3
"""Access control as a user meets it (issue #6's acceptance), over the CLI and HTTP.

On a copy of the example mesh: a consumer (nora, country=NL) is refused on the restricted
customer lifetime value port, asks for access with a purpose, the owner (grace) approves, and
the same query then works with customers' emails masked and only NL customers; an expiring
grant stops once it passes, a revoked one at once; owners preview a consumer's view, consumers
cannot; domain members and privacy officers read emails in clear; the audit trail records the
queries (allowed and denied) and `audit verify` finds a record edited behind its back; bodies
with fields a caller may not set get 400, bad tokens 401 with one message.
"""
import pathlib
import csv
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
from checks import check, summary, mesh_args  # noqa: E402


CLV = "marketing.customer_lifetime_value"
CLV_PORT = CLV + ".customer_lifetime_value"
JOIN_SQL = ("SELECT c.customer_id, c.first_name, c.email, c.country, l.lifetime_value "
            f"FROM {CLV_PORT} l JOIN customers.customers.customers c USING (customer_id) "
            "ORDER BY c.customer_id")


# --- helpers: the CLI, HTTP, time -------------------------------------------------------------

class Plexus:
    """The plexus CLI on one mesh and home; `token` acts as that token's principal."""

    def __init__(self, binary, mesh, home):
        self.base = [binary, "--mesh", mesh, "--home", home]

    def run(self, *args, token=None, check_ok=False):
        cmd = self.base + (["--token", token] if token is not None else []) + list(args)
        env = {k: v for k, v in os.environ.items() if k != "PLEXUS_TOKEN"}
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
        if check_ok and proc.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed: {proc.stderr}")
        return proc

    def query(self, sql, token=None, as_=None):
        """(returncode, rows as a list of dicts or None, stderr)."""
        args = ["query", "--format", "json"] + (["--as", as_] if as_ else []) + [sql]
        proc = self.run(*args, token=token)
        rows = json.loads(proc.stdout) if proc.returncode == 0 and proc.stdout.strip() else None
        return proc.returncode, rows, proc.stderr


class Http:
    """JSON requests to a running `plexus serve`."""

    def __init__(self, base):
        self.base = base

    def call(self, method, path, token=None, body=None):
        """(status, parsed JSON body or the raw text)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token is not None:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, text = resp.status, resp.read().decode()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode()
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text

    def query(self, sql, token, as_=None):
        body = {"sql": sql} if as_ is None else {"sql": sql, "as": as_}
        return self.call("POST", "/api/v1/query", token, body)


def iso_in(seconds):
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def sleep_until(iso):
    end = datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    time.sleep(max(0.0, (end - datetime.now(timezone.utc)).total_seconds()) + 1.2)


def token_of(proc):
    match = re.search(r"plx_\S+", proc.stdout)
    if not match:
        raise RuntimeError(f"no token in: {proc.stdout} {proc.stderr}")
    return match.group(0)


def error_of(body):
    return body.get("error", {}).get("message", "") if isinstance(body, dict) else ""


# --- the seed: what nora must never see ------------------------------------------------------

class Seed:
    def __init__(self, mesh):
        path = os.path.join(mesh, "domains/customers/customers/data/customers.csv")
        with open(path, newline="") as f:
            self.rows = list(csv.DictReader(f))
        self.emails = {r["email"].lower() for r in self.rows if r["email"]}
        self.nl_ids = {int(r["id"]) for r in self.rows if r["country"] == "NL"}
        self.nl_emails = {r["email"].lower() for r in self.rows
                          if r["country"] == "NL" and r["email"]}

    def leaks(self, text):
        low = str(text).lower()
        return sorted(e for e in self.emails if e in low)


def masked_ok(rows, seed):
    """Every email a 64-hex hash (or NULL), only NL rows, and no raw email anywhere."""
    return (rows is not None and all(r["country"] == "NL" for r in rows)
            and all(r["email"] is None or re.fullmatch(r"[0-9a-f]{64}", r["email"]) for r in rows)
            and not seed.leaks(json.dumps(rows)))


# --- the story ---------------------------------------------------------------------------------

def refused_without_grant(px, http, nora):
    rc, _, err = px.query(JOIN_SQL, token=nora)
    check("CLI: nora without a grant is refused on the restricted CLV port",
          rc != 0 and "restricted" in err and "access request" in err, err)
    status, body = http.query(JOIN_SQL, nora)
    check("HTTP: nora without a grant gets 403", status == 403 and "restricted" in error_of(body),
          (status, body))


def request_and_approve(px, http, nora, grace, seed):
    status, body = http.call("POST", "/api/v1/access/requests", nora,
                             {"target": CLV, "purpose": "churn study"})
    check("HTTP: nora requests access with a purpose (201, pending)",
          status == 201 and body.get("status") == "pending" and body.get("principal") == "nora",
          (status, body))
    status, no_purpose = http.call("POST", "/api/v1/access/requests", nora, {"target": CLV})
    check("HTTP: a request without a purpose is 400", status == 400, (status, no_purpose))
    request_id = body.get("id")
    listed = px.run("access", "requests", token=grace)
    check("CLI: grace sees nora's pending request",
          f"#{request_id}" in listed.stdout and "pending" in listed.stdout and "nora" in
          listed.stdout, listed.stdout + listed.stderr)
    approved = px.run("access", "approve", str(request_id), token=grace)
    match = re.search(r"grant #(\d+)", approved.stdout)
    check("CLI: grace approves, which makes a grant", approved.returncode == 0 and match,
          approved.stdout + approved.stderr)
    grant_id = int(match.group(1)) if match else 0

    rc, rows, err = px.query(JOIN_SQL, token=nora)
    check("CLI: the same query now works", rc == 0 and rows, err)
    check("CLI: emails masked, only NL customers, every NL customer",
          masked_ok(rows, seed) and {r["customer_id"] for r in rows or []} == seed.nl_ids, rows)
    status, http_rows = http.query(JOIN_SQL, nora)
    check("HTTP: the same answer as the CLI", status == 200 and http_rows == rows,
          (status, str(http_rows)[:300]))
    # The PostgreSQL-style name: schema "domain.product", table port. Same masks and filter.
    two_part = JOIN_SQL.replace("customers.customers.customers",
                                '"customers.customers".customers')
    rc, same, err = px.query(two_part, token=nora)
    check('CLI: "customers.customers".customers reads as customers.customers.customers',
          rc == 0 and same == rows, err or str(same)[:300])
    return grant_id, rows


def preview(px, http, nora, grace, nora_rows):
    rc, _, err = px.query(JOIN_SQL, token=grace, as_="nora")
    check("CLI: an owner's preview reads only her own domains' ports (customers refused)",
          rc != 0 and "domains you own" in err, err)
    _, admin_view, err = px.query(JOIN_SQL, as_="nora")
    check("CLI: the admin's preview --as nora of the join equals nora's answer",
          admin_view == nora_rows, err)
    clv_sql = f"SELECT customer_id, lifetime_value FROM {CLV_PORT} ORDER BY 1"
    rc, as_nora, err = px.query(clv_sql, token=grace, as_="nora")
    _, own, _ = px.query(clv_sql, token=nora)
    check("CLI: grace's preview of CLV as nora equals nora's own answer",
          rc == 0 and as_nora == own and own, err)
    status, body = http.query(clv_sql, grace, as_="nora")
    check("HTTP: the same preview with \"as\"", status == 200 and body == own, (status, body))
    rc, _, err = px.query(clv_sql, token=nora, as_="grace")
    check("CLI: a consumer cannot use --as", rc != 0 and "preview" in err, err)
    status, body = http.query(clv_sql, nora, as_="grace")
    check("HTTP: a consumer cannot use \"as\" (403)", status == 403, (status, body))
    rc, _, err = px.query("SELECT 1", as_="ghost")
    check("CLI: --as an unknown principal is refused", rc != 0 and "ghost" in err, err)
    status, body = http.query("SELECT 1", grace, as_="ghost")
    check("HTTP: \"as\" an unknown principal is refused", 400 <= status < 500, (status, body))


def revoke(px, http, nora, grace, grant_id):
    status, body = http.call("DELETE", f"/api/v1/access/grants/{grant_id}", grace)
    check("HTTP: grace revokes the grant", status == 200, (status, body))
    rc, _, err = px.query(JOIN_SQL, token=nora)
    check("CLI: a revoked grant stops at once", rc != 0 and "restricted" in err, err)
    status, body = http.query(JOIN_SQL, nora)
    check("HTTP: a revoked grant stops at once", status == 403, (status, body))


def expiring_grant(px, http, nora, grace, priya, expired_token):
    expires = iso_in(6)
    direct = px.run("access", "grant", CLV, "--to", "priya", "--purpose", "audit sample",
                    "--expires", expires, token=grace)
    check("CLI: grace grants priya directly until a few seconds ahead", direct.returncode == 0,
          direct.stdout + direct.stderr)
    past = px.run("access", "grant", CLV, "--to", "priya", "--purpose", "x", "--expires",
                  iso_in(-60), token=grace)
    check("CLI: a grant expiring in the past is refused", past.returncode != 0, past.stdout)
    made = px.run("access", "request", CLV, "--purpose", "a quick look", "--expires", expires,
                  token=nora)
    match = re.search(r"request #(\d+)", made.stdout)
    check("CLI: nora requests access until a few seconds ahead", made.returncode == 0 and match,
          made.stdout + made.stderr)
    status, body = http.call("POST", f"/api/v1/access/requests/{match.group(1) if match else 0}"
                             "/approve", grace, {"reason": "ok for a week"})
    check("HTTP: grace approves it", status == 200 and body.get("status") == "approved",
          (status, body))
    grants = px.run("access", "grants", token=nora)
    check("CLI: nora's grant carries the expiry", expires[:19] in grants.stdout, grants.stdout)
    rc, rows, err = px.query(f"SELECT count(*) AS n FROM {CLV_PORT}", token=nora)
    check("CLI: works before the expiry", rc == 0 and rows and rows[0]["n"] > 0, err)
    status, body = http.query(f"SELECT count(*) AS n FROM {CLV_PORT}", priya)
    check("HTTP: priya's direct grant works before the expiry", status == 200, (status, body))
    sleep_until(expires)
    status, body = http.query(f"SELECT count(*) AS n FROM {CLV_PORT}", priya)
    check("HTTP: priya's direct grant stops once it expired (403)", status == 403,
          (status, body))
    rc, _, err = px.query(f"SELECT count(*) AS n FROM {CLV_PORT}", token=nora)
    check("CLI: refused once the grant expired", rc != 0 and "restricted" in err, err)
    status, body = http.query(f"SELECT count(*) AS n FROM {CLV_PORT}", nora)
    check("HTTP: refused once the grant expired (403)", status == 403, (status, body))
    # The token issued at the start with the same kind of expiry has passed too.
    unknown = "plx_zzzzzzzz_" + "A" * 43
    messages = set()
    for what, token in [("an unknown token", unknown), ("an expired token", expired_token),
                        ("a garbage token", "garbage"), ("a token with a bad secret",
                                                         expired_token[:-4] + "AAAA")]:
        status, body = http.call("GET", "/api/v1/me", token)
        messages.add(error_of(body))
        check(f"HTTP: {what} gets 401", status == 401, (status, body))
        rc = px.run("query", "SELECT 1", token=token)
        check(f"CLI: {what} is refused", rc.returncode != 0 and "token" in rc.stderr, rc.stderr)
    check("HTTP: one message for every bad token", len(messages) == 1, messages)


def clear_readers(px, http, seed, bob, priya):
    sql = "SELECT customer_id, email, country FROM customers.customers.customers"
    rc, rows, err = px.query(sql, token=bob)
    emails = {r["email"] for r in rows or [] if r["email"]}
    check("CLI: bob (member of customers) reads emails in clear, every row",
          rc == 0 and emails == seed.emails and len(rows) == len(seed.rows), err or len(emails))
    status, body = http.query(sql, priya)
    emails = {r["email"] for r in body if r["email"]} if isinstance(body, list) else set()
    check("HTTP: priya (privacy_officers, NL) reads NL emails in clear",
          status == 200 and emails == seed.nl_emails and all(r["country"] == "NL" for r in body),
          (status, str(body)[:300]))


def audit_trail(px):
    out = px.run("audit", "--principal", "nora", "--limit", "1000").stdout
    lines = out.splitlines()
    allowed = [l for l in lines if " query " in l and " allow " in l and CLV in l]
    denied = [l for l in lines if " query " in l and " deny " in l and CLV_PORT in l]
    check("audit: nora's allowed queries with principal, products and decision",
          allowed and all("nora" in l and f"products={CLV}" in l for l in allowed)
          and any("customers.customers" in l for l in allowed), out[-800:])
    check("audit: nora's denied queries, with the reason", denied and
          any("restricted" in l for l in denied), out[-800:])
    previews = px.run("audit", "--principal", "grace", "--limit", "1000").stdout
    check("audit: grace's approval and revocation are recorded",
          "request.approve" in previews and "grant.revoke" in previews, previews[-800:])


def tamper(px, home):
    ok = px.run("audit", "verify")
    check("audit verify passes on an untouched trail", ok.returncode == 0, ok.stdout + ok.stderr)
    db = sqlite3.connect(os.path.join(home, "catalog.db"))
    try:
        seq = db.execute("SELECT min(seq) FROM audit WHERE principal = 'nora' "
                         "AND decision = 'deny'").fetchone()[0]
        try:
            db.execute("UPDATE audit SET decision = 'allow' WHERE seq = ?", (seq,))
            check("the trigger refuses an UPDATE of the audit trail", False)
        except sqlite3.DatabaseError as e:
            check("the trigger refuses an UPDATE of the audit trail", "append-only" in str(e), e)
        db.execute("DROP TRIGGER audit_no_update")  # as an attacker with the file would
        db.execute("UPDATE audit SET decision = 'allow' WHERE seq = ?", (seq,))
        db.commit()
    finally:
        db.close()
    bad = px.run("audit", "verify")
    check("audit verify fails after an edit, naming the record",
          bad.returncode == 1 and re.search(rf"\b{seq}\b", bad.stdout + bad.stderr),
          (seq, bad.returncode, bad.stdout + bad.stderr))


def forbidden_fields(http, nora, grace):
    for field, value in [("principal", "grace"), ("status", "approved"), ("granted_by", "grace"),
                         ("owner", "nora"), ("grant_id", 1)]:
        body = {"target": CLV, "purpose": "p", field: value}
        status, answer = http.call("POST", "/api/v1/access/requests", nora, body)
        check(f"HTTP: an access request setting {field} is 400",
              status == 400 and field in error_of(answer), (status, answer))
    status, answer = http.call("POST", "/api/v1/access/grants", grace,
                               {"target": CLV, "grantee": "nora", "purpose": "p",
                                "granted_by": "admin"})
    check("HTTP: a grant setting granted_by is 400", status == 400, (status, answer))


def main():
    args = mesh_args()
    work = tempfile.mkdtemp(prefix="plexus-access-flow-")
    server = None
    try:
        mesh, home = os.path.join(work, "mesh"), os.path.join(work, "home")
        shutil.copytree(args.mesh, mesh)
        px = Plexus(os.path.abspath(args.plexus), mesh, home)
        for step in (["generate"], ["apply"], ["run", "--all"]):
            px.run(*step, check_ok=True)
        seed = Seed(mesh)
        nora = token_of(px.run("principal", "create", "nora", "--attr", "country=NL", "--token",
                               check_ok=True))
        expiring = px.run("token", "issue", "nora", "--expires", iso_in(3), check_ok=True)
        expired_token = token_of(expiring)
        grace = token_of(px.run("token", "issue", "grace", check_ok=True))
        bob = token_of(px.run("token", "issue", "bob", check_ok=True))
        priya = token_of(px.run("principal", "create", "priya", "--attr", "country=NL",
                                "--token", check_ok=True))
        px.run("group", "add", "privacy_officers", "priya", check_ok=True)

        server = subprocess.Popen(px.base + ["serve", "--port", "0", "--pg-port", "0"], stdout=subprocess.PIPE,
                                  text=True)
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", server.stdout.readline())
        check("serve prints its address", match is not None)
        if not match:
            return
        http = Http(f"http://127.0.0.1:{match.group(1)}")

        refused_without_grant(px, http, nora)
        grant_id, nora_rows = request_and_approve(px, http, nora, grace, seed)
        preview(px, http, nora, grace, nora_rows)
        revoke(px, http, nora, grace, grant_id)
        expiring_grant(px, http, nora, grace, priya, expired_token)
        clear_readers(px, http, seed, bob, priya)
        forbidden_fields(http, nora, grace)
        audit_trail(px)
        tamper(px, home)
        status, _ = http.call("GET", "/healthz")
        check("the server still answers /healthz", status == 200 and server.poll() is None)
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(work, ignore_errors=True)
        sys.exit(summary())


if __name__ == "__main__":
    main()
