#!/usr/bin/env python3
"""The business glossary (issue 4), as a user meets it over the CLI and HTTP.

On a copy of the example mesh whose payments port is made private: `plexus glossary` lists the
terms of examples/jaffle-mesh/glossary.yaml with the columns linked to them, `plexus glossary
TERM` (by id or by name) shows a term and its columns, linked by authoritativeDefinitions
(glossary:<id>) or by businessName; an outsider does not see the columns of the private port
while its domain's owner does; `plexus show` prints each column's terms; a broken glossary
fails `plexus validate` naming file:line and field; the HTTP routes answer alike.
"""
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
from checks import check, mesh_args, summary  # noqa: E402

PAYMENTS_CONTRACT = "domains/payments/payments/contracts/payments.odcs.yaml"
ORDERS_CONTRACT = "domains/orders/orders/contracts/orders.odcs.yaml"


class Plexus:
    def __init__(self, binary, mesh, home):
        self.base = [binary, "--mesh", mesh, "--home", home]

    def run(self, *args, token=None):
        cmd = self.base + (["--token", token] if token is not None else []) + list(args)
        env = {k: v for k, v in os.environ.items() if k not in ("PLEXUS_TOKEN", "PLEXUS_SERVER")}
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)

    def ok(self, *args, token=None):
        proc = self.run(*args, token=token)
        if proc.returncode != 0:
            raise RuntimeError(f"plexus {' '.join(args)} failed: {proc.stderr}")
        return proc


def token_of(proc):
    match = re.search(r"plx_\S+", proc.stdout)
    if not match:
        raise RuntimeError(f"no token in: {proc.stdout} {proc.stderr}")
    return match.group(0)


def edit(path, old, new):
    text = path.read_text()
    if old not in text:
        raise RuntimeError(f"{old!r} not in {path}")
    path.write_text(text.replace(old, new, 1))


def line_of(path, needle):
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if needle in line:
            return number
    raise RuntimeError(f"{needle!r} not in {path}")


def get(base, path, token):
    req = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read().decode())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read().decode() or "{}")


def cli(px, outsider, erin):
    listing = px.run("glossary")
    rows = {line.split()[0]: line.split() for line in listing.stdout.splitlines()[1:] if line}
    check("glossary lists the example's terms", listing.returncode == 0 and
          {"customer", "order", "payment-method", "customer-lifetime-value"} <= set(rows),
          listing.stdout + listing.stderr)
    check("glossary counts the customer's three linked columns",
          rows.get("customer", [""])[-1] == "3", listing.stdout)

    shown = px.run("glossary", "customer")
    check("glossary customer shows the definition and owners", shown.returncode == 0 and
          "A person who has signed up" in shown.stdout and "owners:     alice" in shown.stdout,
          shown.stdout + shown.stderr)
    for column in ("customers.customers.customers.customer_id",
                   "orders.orders.orders.customer_id",
                   "marketing.customer_lifetime_value.customer_lifetime_value.customer_id"):
        check(f"glossary customer links {column} by its authoritative definition",
              re.search(re.escape(column) + r"\s+by authoritativeDefinition", shown.stdout),
              shown.stdout)
    by_name = px.run("glossary", "ORDER STATUS")
    check("a term is found by its name in any case, linked by business name",
          by_name.returncode == 0 and
          re.search(r"orders\.orders\.orders\.status\s+by businessName", by_name.stdout),
          by_name.stdout + by_name.stderr)
    clv = px.run("glossary", "customer-lifetime-value")
    check("a synonym-free business name match: lifetime_value is the CLV term",
          "customer_lifetime_value.lifetime_value" in clv.stdout, clv.stdout)

    # The payments port is private: even the mesh admin sees its columns only as a member of
    # the payments domain (erin owns it).
    amount = px.run("glossary", "payment-amount", "--format", "json", token=erin)
    body = json.loads(amount.stdout) if amount.returncode == 0 else {}
    check("--format json has the term's fields and its columns",
          body.get("id") == "payment-amount" and body.get("synonyms") == ["amount", "amount paid"]
          and [c["column"] for c in body.get("columns", [])] ==
          ["payments.payments.payments.amount"] and body["columns"][0]["link"] == "businessName",
          amount.stdout + amount.stderr)

    unknown = px.run("glossary", "jaffle-flavour")
    check("an unknown term is an error, exit 1",
          unknown.returncode == 1 and "unknown glossary term jaffle-flavour" in unknown.stderr,
          unknown)

    hidden = px.run("glossary", "payment-amount", "--format", "json", token=outsider)
    body = json.loads(hidden.stdout) if hidden.returncode == 0 else {}
    check("an outsider sees the term but not the private port's columns",
          body.get("name") == "Payment amount" and body.get("columns") == [],
          hidden.stdout + hidden.stderr)
    listing = px.run("glossary", "--format", "json", token=outsider)
    counts = {t["id"]: t["linked_columns"] for t in json.loads(listing.stdout or "{}").get(
        "terms", [])} if listing.returncode == 0 else {}
    check("the outsider's counts leave the private port out",
          counts.get("payment") == 0 and counts.get("order") == 2 and counts.get("customer") == 3,
          listing.stdout + listing.stderr)
    owner = px.run("glossary", "payment-amount", token=erin)
    check("the payments domain's owner sees the private column",
          "payments.payments.payments.amount" in owner.stdout, owner.stdout + owner.stderr)
    admin = px.run("glossary", "payment-amount")
    check("outside the payments domain, even the mesh admin does not see the private column",
          admin.returncode == 0 and "columns:    none linked" in admin.stdout,
          admin.stdout + admin.stderr)

    show = px.run("show", "payments.payments", token=erin)
    check("plexus show prints a column's business name and terms",
          show.returncode == 0 and
          "business name: Amount; term: Payment amount (payment-amount)" in show.stdout and
          "term: Payment (payment)" in show.stdout, show.stdout + show.stderr)


def bad_glossary(plexus, work, source):
    mesh = pathlib.Path(work) / "bad"
    shutil.copytree(source, mesh)
    glossary = mesh / "glossary.yaml"
    edit(glossary, "  - id: order-date\n", "  - id: order\n")
    edit(glossary, "related: [order, payment-method, payment-amount]",
         "related: [order, payment-method, refund]")
    edit(mesh / ORDERS_CONTRACT, 'url: "glossary:order"', 'url: "glossary:purchase"')
    proc = subprocess.run([plexus, "--mesh", str(mesh), "validate"], capture_output=True,
                          text=True, timeout=60)
    duplicate = [n for n, line in enumerate(glossary.read_text().splitlines(), 1)
                 if line == "  - id: order"][1]  # the second term with the id
    related = line_of(glossary, "related: [order, payment-method, refund]")
    url = line_of(mesh / ORDERS_CONTRACT, 'url: "glossary:purchase"')
    check("validate refuses a broken glossary", proc.returncode == 1, proc)
    check("a duplicate term id is named by file:line and field",
          re.search(rf"glossary\.yaml:{duplicate}:\d+: terms\[4\]\.id: term id 'order' is "
                    "already used", proc.stderr), proc.stderr)
    check("an unknown related term is named by file:line and field",
          re.search(rf"glossary\.yaml:{related}:\d+: terms\[6\]\.related\[2\]: unknown glossary "
                    "term 'refund'", proc.stderr), proc.stderr)
    check("a contract naming an unknown term is named by file:line and field",
          re.search(rf"{re.escape(ORDERS_CONTRACT)}:{url}:\d+: schema\[0\]\.properties\[0\]\."
                    r"authoritativeDefinitions\[0\]\.url: unknown glossary term 'purchase' "
                    r"\(see glossary\.yaml\)", proc.stderr), proc.stderr)
    glossary.unlink()
    proc = subprocess.run([plexus, "--mesh", str(mesh), "validate"], capture_output=True,
                          text=True, timeout=60)
    named = line_of(mesh / "mesh.yaml", "glossary: glossary.yaml")
    check("a missing glossary file is named at mesh.yaml's line",
          re.search(rf"mesh\.yaml:{named}:\d+: glossary: no such glossary file: glossary\.yaml",
                    proc.stderr), proc.stderr)


def http(px, admin, outsider):
    server = subprocess.Popen(px.base + ["serve", "--port", "0", "--no-pg"],
                              stdout=subprocess.PIPE, text=True)
    try:
        match = re.search(r"(http://127\.0\.0\.1:\d+)/", server.stdout.readline())
        check("serve prints its address", match is not None)
        if not match:
            return
        base = match.group(1)
        status, body = get(base, "/api/v1/glossary?limit=3", admin)
        terms = body.get("terms", []) if isinstance(body, dict) else []
        check("GET /api/v1/glossary is paged", status == 200 and len(terms) == 3 and
              body.get("next_cursor") is not None, (status, body))
        check("a listed term has its fields and self URL",
              terms and terms[0]["id"] == "customer" and
              terms[0]["self"] == "/api/v1/glossary/customer" and terms[0]["linked_columns"] == 3
              and terms[0]["owners"] == ["alice"] and "definition" in terms[0], terms[:1])
        status, body = get(base, "/api/v1/glossary/customer", admin)
        columns = sorted(c["id"] for c in body.get("columns", []))
        check("GET /api/v1/glossary/customer lists its columns with their ids and URLs",
              status == 200 and columns == sorted([
                  "customers.customers.customers.customer_id",
                  "marketing.customer_lifetime_value.customer_lifetime_value.customer_id",
                  "orders.orders.orders.customer_id"]) and
              all(c["self"].startswith("/api/v1/products/") for c in body["columns"]),
              (status, body))
        status, body = get(base, "/api/v1/glossary/Order%20status", admin)
        check("a term by its name over HTTP", status == 200 and body.get("id") == "order-status",
              (status, body))
        status, body = get(base, "/api/v1/glossary/payment-amount", outsider)
        check("HTTP: the outsider sees no column of the private port",
              status == 200 and body.get("columns") == [], (status, body))
        status, body = get(base, "/api/v1/glossary/jaffle-flavour", admin)
        check("HTTP: an unknown term is 404 not_found",
              status == 404 and body.get("error", {}).get("code") == "not_found", (status, body))
        status, doc = get(base, "/api/v1/openapi.json", admin)
        paths = doc.get("paths", {}) if isinstance(doc, dict) else {}
        check("the OpenAPI document lists the glossary routes",
              "/api/v1/glossary" in paths and "/api/v1/glossary/{term}" in paths, list(paths))
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def main():
    args = mesh_args()
    plexus = os.path.abspath(args.plexus)
    work = tempfile.mkdtemp(prefix="plexus-glossary-")
    try:
        mesh = pathlib.Path(work) / "mesh"
        shutil.copytree(args.mesh, mesh, ignore=shutil.ignore_patterns(".plexus"))
        edit(mesh / PAYMENTS_CONTRACT, "    value: public", "    value: private")
        px = Plexus(plexus, str(mesh), os.path.join(work, "home"))
        valid = px.run("validate")
        check("the example mesh with its glossary validates", valid.returncode == 0, valid)
        px.ok("apply")
        outsider = token_of(px.ok("principal", "create", "olga", "--token"))
        erin = token_of(px.ok("token", "issue", "erin"))
        admin = token_of(px.ok("token", "issue", "admin"))
        cli(px, outsider, erin)
        bad_glossary(plexus, work, mesh)
        http(px, admin, outsider)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
