#!/usr/bin/env python3
"""plexus search and usage, end to end, on a copy of the example mesh.

- acceptance: searching a column's business name finds its product first, for every business
  name of the example contracts that one product alone uses (Sign-up date -> customers, Most
  recent order date -> customer_lifetime_value, Payment method -> payments, ...);
- the table (matches between [ ] when not a terminal) and --format json shapes; a typo is
  corrected and said; a word near nothing is left out and said;
- FTS5 operators, quotes, brackets and control characters are text: exit 0, never an error;
- facets, and a --domain filter that leaves its own facet's other values in view; paging;
- payments made private, an outsider (a principal of no domain) never sees it: not in results,
  totals or facets, in the table, json or over HTTP; its domain's owner does;
- usage: queries by a principal (CLI and HTTP) raise the product's score by the usage factor,
  show in queries_30d, and GET /api/v1/products/{ref}/usage names the reader, the columns read
  and the day;
- over HTTP: the same first result as the CLI, `self` URLs, facets, `next` paging, 400 with a
  JSON error when q has no words;
- the listing (`plexus products --limit/--offset/--all`, GET /api/v1/products?limit&cursor):
  pages cover every product the caller may see once, in order, and never the private payments
  (visibility before paging: the outsider's pages are those of its own list).
"""
import datetime
import json
import math
import pathlib
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
from checks import (check, make_private, mesh_args, scratch_mesh,  # noqa: E402
                    shown_token, stop, summary)

FACETS = ["domain", "tag", "status", "classification", "owner"]
CUSTOMERS_SQL = "SELECT customer_id, country FROM customers.customers.customers"


def business_names(mesh):
    """Column business names -> the products (domain.product) whose contracts use them."""
    names = {}
    for path in sorted(pathlib.Path(mesh).glob("domains/*/*/contracts/*.odcs.yaml")):
        product = f"{path.parts[-4]}.{path.parts[-3]}"
        for name in re.findall(r"^ {8}businessName: (.+)$", path.read_text(), re.M):
            names.setdefault(name.strip().strip('"'), set()).add(product)
    return names


def parse(answer):
    try:
        return json.loads(answer.stdout)
    except ValueError:
        return None


def call(base, path, token=None, method="GET", raw=None):
    req = urllib.request.Request(base + path, data=raw, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            status, body = resp.status, resp.read()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read()
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body


def main():
    args = mesh_args()
    work, mesh, _, base = scratch_mesh(args, "plexus-search-")
    server = None
    try:

        def px(*argv, token=None):
            cmd = base + (["--token", token] if token else []) + list(argv)
            return subprocess.run(cmd, capture_output=True, text=True)

        def search(*argv, token=None):
            """plexus search ... --format json, parsed ({} when it does not parse)."""
            answer = px("search", *argv, "--format", "json", token=token)
            return parse(answer) or {"error": answer.stdout + answer.stderr}

        applied = px("apply")
        check("the example mesh applies", applied.returncode == 0, applied.stdout + applied.stderr)
        if applied.returncode != 0:
            return
        ran = px("run", "--all")
        check("the products build", ran.returncode == 0, ran.stdout + ran.stderr)
        check_business_names(mesh, search)
        check_table_and_json(px, search)
        check_words(px, search)
        check_facets_and_paging(search)

        make_private(mesh, "payments")
        reapplied = px("apply")
        check("payments made private applies", reapplied.returncode == 0,
              reapplied.stdout + reapplied.stderr)
        created = px("principal", "create", "nora", "--token")
        nora = shown_token(created.stdout)
        check("an outsider with a token", created.returncode == 0 and nora, created.stderr)
        erin = px("token", "issue", "erin").stdout.strip()
        check_outsider(px, search, nora, erin)
        check_listing_cli(px, nora, erin)

        check_usage_cli(px, search, nora)
        admin = px("token", "issue").stdout.strip()
        server = subprocess.Popen(base + ["serve", "--port", "0", "--no-pg"],
                                  stdout=subprocess.PIPE, text=True)
        line = server.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
        check("serve prints its HTTP address", match is not None, line)
        if match:
            check_http(match.group(1), search, admin, nora, erin)
            check_listing_http(match.group(1), px, nora)
    finally:
        stop(server)
        shutil.rmtree(work, ignore_errors=True)
        sys.exit(summary())


def check_business_names(mesh, search):
    names = business_names(mesh)
    for required in ["Sign-up date", "Most recent order date", "Payment method"]:
        check(f"the example contracts name the column '{required}'", required in names, names)
    unique = {name: products.pop() for name, products in names.items() if len(products) == 1}
    check("several business names belong to one product each", len(unique) >= 10, unique)
    for name, product in sorted(unique.items()):
        found = search(name)
        first = (found.get("results") or [{}])[0].get("name")
        check(f"acceptance: '{name}' finds {product} first", first == product,
              [(r["name"], round(r["score"], 3)) for r in found.get("results", [])] or found)


def check_table_and_json(px, search):
    table = px("search", "Sign-up date")
    out = table.stdout
    check("table: a count, the first product, matches between [ ] when not a terminal",
          table.returncode == 0 and re.search(r"^\d+ products? match(es)? \"Sign-up date\"", out,
                                              re.M) and
          "\n1. customers.customers  (" in out and "[Sign]-[up] [date]" in out and
          "\x1b[" not in out, out + table.stderr)
    check("table: ports and how to refine",
          "ports: customers.customers.customers" in out and "refine with:" in out and
          "--domain customers (1)" in out, out)
    doc = search("Sign-up date")
    check("json: total, facets, terms, corrections, ignored, query, results",
          set(doc) >= {"total", "facets", "terms", "corrections", "ignored", "query", "results"} and
          doc["query"] == "Sign-up date" and set(doc["facets"]) == set(FACETS), doc)
    first = (doc.get("results") or [{}])[0]
    check("json: a result's fields",
          set(first) >= {"name", "id", "domain", "status", "tags", "ports", "score",
                         "relevance", "trust", "usage", "highlights"} and
          first["name"] == "customers.customers" and first["domain"] == "customers" and
          first["ports"] == ["customers"] and set(first["usage"]) == {"queries_30d",
                                                                     "readers_30d"} and
          first["score"] > 0 and 0 <= first["trust"] <= 100, first)
    marked = [h for h in first.get("highlights", []) if "<mark>" in h["text"]]
    check("json: highlights mark the matches with <mark>",
          any(h["field"] == "business" and "<mark>Sign</mark>-<mark>up</mark> <mark>date</mark>"
              in h["text"] for h in marked), first.get("highlights"))
    check("json: the glossary term Sign-up date matches",
          any(t["id"] == "sign-up-date" for t in doc.get("terms", [])), doc.get("terms"))
    bad = px("search", "orders", "--format", "xml")
    check("an unknown --format is refused (exit 1, named)",
          bad.returncode != 0 and "--format" in bad.stderr, bad.stderr)


def check_words(px, search):
    typo = search("custmer")
    check("a typo is corrected and said (json)",
          any(c.startswith("custmer: customer") for c in typo.get("corrections", [])) and
          any(r["name"] == "customers.customers" for r in typo.get("results", [])), typo)
    table = px("search", "custmer")
    check("a typo is corrected and said (table)",
          table.returncode == 0 and "searched instead: custmer: customer" in table.stdout,
          table.stdout + table.stderr)
    nothing = search("qzxjvw")
    check("a word near nothing is left out and said",
          nothing.get("ignored") == ["qzxjvw"] and nothing.get("total") == 0 and
          nothing.get("results") == [], nothing)
    prefix = search("lifeti")
    check("a word is a prefix ('lifeti' finds customer_lifetime_value)",
          (prefix.get("results") or [{}])[0].get("name") ==
          "marketing.customer_lifetime_value", prefix)
    every = search("payment sign-up")
    check("every word must match (payment AND sign-up: none)", every.get("total") == 0, every)
    for text in ["orders AND (", '"unbalanced', "NOT", "NOT orders", "orders OR", "*", "^orders",
                 "name:orders", "NEAR(orders customers", "))((", "\x01\x02orders\x1b[0m\x7f",
                 "'; DROP TABLE search_fts; --", "\u00e7ustomer", "   "]:
        for fmt in ("table", "json"):
            answer = px("search", text, "--format", fmt)
            ok = answer.returncode == 0 and "error" not in answer.stderr.lower()
            if fmt == "json":
                ok = ok and parse(answer) is not None
            check(f"text {text!r} ({fmt}): exit 0, no error", ok,
                  answer.stdout[-300:] + answer.stderr)
    check("operators are words: 'orders AND (' finds orders.orders",
          any(r["name"] == "orders.orders" for r in search("orders AND (")["results"]),
          search("orders AND ("))
    check("the index answers after all that",
          search("Sign-up date")["results"][0]["name"] == "customers.customers")


def facet(doc, name):
    return {v["value"]: v["count"] for v in doc.get("facets", {}).get(name, [])}


def check_facets_and_paging(search):
    everything = search("customer")
    domains = facet(everything, "domain")
    check("facets: customer matches products of several domains",
          everything.get("total", 0) >= 3 and len(domains) >= 3 and
          sum(domains.values()) == everything["total"], everything.get("facets"))
    check("facets: every facet is listed, tags and statuses counted",
          set(everything.get("facets", {})) == set(FACETS) and
          facet(everything, "tag").get("jaffle-shop") == everything.get("total") and
          facet(everything, "status").get("active") == everything.get("total"),
          everything.get("facets"))
    marketing = search("customer", "--domain", "marketing")
    check("--domain marketing: only its products, the domain facet keeps the others",
          marketing.get("total", 0) >= 1 and
          all(r["domain"] == "marketing" for r in marketing.get("results", [])) and
          facet(marketing, "domain") == domains, marketing)
    check("--domain marketing: the other facets count its products only",
          facet(marketing, "tag").get("jaffle-shop") == marketing.get("total") and
          "payments" not in facet(marketing, "tag"), marketing.get("facets"))
    two = search("customer", "--domain", "marketing", "--domain", "customers")
    check("--domain twice: either", two.get("total") == domains.get("marketing", 0) +
          domains.get("customers", 0), two)
    classified = search("customer", "--classification", "pii")
    check("--classification pii: customers only",
          [r["name"] for r in classified.get("results", [])] == ["customers.customers"],
          classified)
    bad = search("customer", "--domain", "nowhere")
    check("an unknown domain: no result, exit 0", bad.get("total") == 0, bad)
    whole = [r["name"] for r in everything.get("results", [])]
    pages = []
    for offset in range(0, len(whole)):
        page = search("customer", "--limit", "1", "--offset", str(offset))
        pages += [r["name"] for r in page.get("results", [])]
        if page.get("total") != everything.get("total"):
            pages.append("total changed")
    check("paging one by one: the same products in the same order, total stable",
          pages == whole and len(whole) >= 3, (pages, whole))


def check_outsider(px, search, nora, erin):
    owner = search("payment method", token=erin)
    check("payments' owner finds the private payments",
          (owner.get("results") or [{}])[0].get("name") == "payments.payments", owner)
    for text in ["payment method", "payments", "amount", "finance"]:
        seen = search(text, token=nora)
        payments = ("payments.payments" in json.dumps(seen.get("results")) or
                    "payments" in facet(seen, "domain"))
        check(f"an outsider: '{text}' shows no payments product, total or facet",
              not payments and seen.get("total") == len(seen.get("results", [])) and
              "error" not in seen, seen)
    shared = search("order id", token=nora)
    check("an outsider: 'order id' counts orders but not payments",
          "payments" not in facet(shared, "domain") and
          any(r["name"] == "orders.orders" for r in shared.get("results", [])), shared)
    both = search("order id", token=erin)
    check("...while payments' owner counts both",
          {"orders", "payments"} <= set(facet(both, "domain")), both.get("facets"))
    table = px("search", "payment", token=nora)
    check("an outsider's table names no payments product",
          table.returncode == 0 and "payments.payments" not in table.stdout and
          "--domain payments" not in table.stdout, table.stdout + table.stderr)


def listed(px, *argv, token=None):
    """The product names `plexus products ...` prints, and its last line."""
    answer = px("products", *argv, token=token)
    lines = answer.stdout.splitlines()
    names = [line.split()[0] for line in lines[1:] if line and not line.startswith("(")]
    return answer.returncode, names, (lines or [""])[-1]


def check_listing_cli(px, nora, erin):
    code, everything, _ = listed(px, "--all", token=nora)
    check("products --all: the outsider's list, sorted, without the private payments",
          code == 0 and len(everything) == 4 and everything == sorted(everything) and
          "payments.payments" not in everything, everything)
    pages, offset = [], 0
    while offset <= len(everything):
        code, names, last = listed(px, "--limit", "2", "--offset", str(offset), token=nora)
        more = offset + 2 < len(everything)
        check(f"products --limit 2 --offset {offset}: that page, said when more follow",
              code == 0 and names == everything[offset:offset + 2] and
              (f"--offset {offset + 2}" in last) == more, (names, last))
        pages += names
        offset += 2
    check("the outsider's pages cover its list once", pages == everything, pages)
    code, owners, _ = listed(px, "--all", token=erin)
    check("payments' owner lists payments", code == 0 and "payments.payments" in owners, owners)
    code, first, last = listed(px, token=nora)
    check("products: a page of 50 by default", code == 0 and first == everything[:50], first)
    bad = px("products", "--limit", "0")
    check("products --limit 0 is refused", bad.returncode != 0, bad.stdout)


def check_listing_http(base, px, nora):
    _, everything, _ = listed(px, "--all", token=nora)
    names, path = [], "/api/v1/products?limit=2"
    for _ in range(100):
        status, page = call(base, path, nora)
        if status != 200:
            break
        names += [p["name"] for p in page["products"]]
        check("HTTP products: pages of 2, ports without columns",
              len(page["products"]) <= 2 and
              all("columns" not in o for p in page["products"] for o in p["output_ports"]), page)
        if not page.get("next"):
            break
        path = page["next"][page["next"].index("/api/"):]
    check("HTTP products: the outsider's pages are the CLI's list, without payments",
          status == 200 and names == everything and "payments.payments" not in names,
          (status, names, everything))


def check_usage_cli(px, search, nora):
    before = {r["name"]: r for r in search("customer")["results"]}
    for _ in range(3):
        queried = px("query", CUSTOMERS_SQL, "--format", "csv", token=nora)
        check("nora queries customers", queried.returncode == 0, queried.stderr)
    refused = px("query", "SELECT amount FROM payments.payments.payments", token=nora)
    check("nora cannot read the private payments", refused.returncode != 0, refused.stdout)
    after = {r["name"]: r for r in search("customer")["results"]}
    customers = after.get("customers.customers", {})
    check("search reports the usage: 3 queries by 1 reader in 30 days",
          customers.get("usage") == {"queries_30d": 3, "readers_30d": 1}, customers)
    old = before.get("customers.customers", {}).get("score", 0)
    check("usage raises the score by 1 + 0.1 ln(1 + queries)",
          old > 0 and abs(customers.get("score", 0) / old - (1 + 0.1 * math.log(4))) < 1e-6,
          (old, customers.get("score")))
    table = px("search", "customer")
    check("the table shows the usage",
          "customers.customers  (active, trust" in table.stdout and
          "3 queries by 1 reader in 30 days" in table.stdout, table.stdout)
    again = search("customer")
    check("searching again counts nothing twice",
          {r["name"]: r["usage"] for r in again["results"]}.get("customers.customers") ==
          {"queries_30d": 3, "readers_30d": 1}, again)


def check_http(base, search, admin, nora, erin):
    status, _ = call(base, "/api/v1/query?format=csv", nora, "POST", CUSTOMERS_SQL.encode())
    check("nora queries customers over HTTP", status == 200, status)
    status, usage = call(base, "/api/v1/products/customers.customers/usage?days=7", admin)
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    readers = {r["principal"]: r["queries"] for r in usage.get("by_reader", [])} \
        if isinstance(usage, dict) else {}
    columns = {(c["port"], c["column"]): c["queries"] for c in usage.get("columns", [])} \
        if isinstance(usage, dict) else {}
    check("usage over HTTP: nora read customers 4 times (CLI and HTTP), today",
          status == 200 and usage["product"] == "customers.customers" and usage["days"] == 7 and
          readers == {"nora": 4} and usage["queries"] == 4 and usage["readers"] == 1 and
          usage["by_day"] == [{"day": today, "queries": 4}] and
          usage["last_read_at"].startswith(today), (status, usage))
    check("usage over HTTP: the columns read, with their ids",
          columns.get(("customers", "customer_id")) == 4 and
          columns.get(("customers", "country")) == 4 and
          ("customers", "email") not in columns and
          all(c["id"] for c in usage.get("columns", [])), usage)
    status, body = call(base, "/api/v1/products/customers.customers/usage?days=0", admin)
    check("usage: days=0 is a 400 with a JSON error",
          status == 400 and isinstance(body, dict) and "error" in body, (status, body))
    status, body = call(base, "/api/v1/products/payments.payments/usage", nora)
    status_unknown, unknown = call(base, "/api/v1/products/nope.nothing/usage", nora)
    check("usage: the outsider's view of the private payments reads like an unknown product",
          status == 404 and status_unknown == 404, (status, body, unknown))

    for text in ["Sign-up date", "Most recent order date", "customer", "custmer"]:
        status, found = call(base, "/api/v1/search?q=" + urllib.parse.quote(text), admin)
        cli = search(text)
        check(f"HTTP search '{text}': the CLI's first result and total",
              status == 200 and found["results"] and cli["results"] and
              found["results"][0]["name"] == cli["results"][0]["name"] and
              found["total"] == cli["total"] and found["corrections"] == cli["corrections"],
              (status, found, cli.get("results", [{}])[:1]))
    status, found = call(base, "/api/v1/search?q=customer&limit=2", admin)
    first = (found.get("results") or [{}])[0] if isinstance(found, dict) else {}
    check("HTTP search: self URLs, facets, usage, a next link",
          status == 200 and len(found["results"]) == 2 and
          first.get("self", "").endswith("/api/v1/products/" + first.get("name", "?")) and
          set(found["facets"]) == set(FACETS) and "queries_30d" in first.get("usage", {}) and
          found.get("next"), found)
    if status == 200 and found.get("next"):
        nxt = found["next"]
        path = nxt[nxt.index("/api/"):] if "/api/" in nxt else nxt
        status2, page2 = call(base, path, admin)
        names = [r["name"] for r in found["results"]] + \
            [r["name"] for r in page2.get("results", [])]
        check("HTTP search: the next page continues, total stable",
              status2 == 200 and page2["total"] == found["total"] and
              len(set(names)) == len(names) == min(found["total"], 4), (status2, page2))
        status_self, product = call(base, first["self"][first["self"].index("/api/"):], admin)
        check("HTTP search: a result's self URL answers", status_self == 200, product)
    status, found = call(base, "/api/v1/search?q=customer&domain=marketing", admin)
    check("HTTP search: domain filter",
          status == 200 and found["total"] >= 1 and
          all(r["domain"] == "marketing" for r in found["results"]), found)
    for query in ["", "?q=", "?q=%20%28%22*"]:
        status, body = call(base, "/api/v1/search" + query, admin)
        check(f"HTTP search{query or ' (no q)'}: 400 with a JSON error",
              status == 400 and isinstance(body, dict) and
              body.get("error", {}).get("code") == "invalid_argument", (status, body))
    status, body = call(base, "/api/v1/search?q=x&colour=red", admin)
    check("HTTP search: an unknown parameter is not an error", status == 200, (status, body))
    status, body = call(base, "/api/v1/search?q=" + urllib.parse.quote('orders AND ( "x'),
                        admin)
    check("HTTP search: operators are text", status == 200, (status, body))
    status, found = call(base, "/api/v1/search?q=payment", nora)
    check("HTTP search: the outsider sees no payments product",
          status == 200 and "payments.payments" not in json.dumps(found["results"]) and
          "payments" not in facet(found, "domain"), found)
    status, found = call(base, "/api/v1/search?q=payment", erin)
    check("HTTP search: payments' owner does",
          status == 200 and found["results"][0]["name"] == "payments.payments", found)
    status, _ = call(base, "/api/v1/search?q=customer")
    check("HTTP search needs a token", status == 401, status)


if __name__ == "__main__":
    main()
