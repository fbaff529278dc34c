#!/usr/bin/env python3
"""Addressability and lineage over HTTP, end to end.

A real `plexus serve` (HTTP only, port 0) over a copy of the example mesh, to which one more
level is applied while it runs (sales.vip_customers reads marketing.customer_lifetime_value;
tests/e2e/test_lineage.py):
- every product, port, version and column object carries an `id` and a `self` URL, and every
  `self` answers 200 with the same id (products, ports, versions, columns);
- the ids follow one scheme: domain.product.port, domain.product.port@vN,
  domain.product.port.column; a version answers by 1 and by v1;
- a column answers with its type, classification, business name, glossary terms, the mask the
  caller gets, and its column lineage up and down at depth 1;
- payments made private: for an outsider its product, port, version and column URLs answer 404
  exactly like unknown ones, and no lineage names it; a member of its domain still sees it;
- lineage: ?depth, ?direction, ?column, ?format=dot, bad values are 400/404 with a JSON error,
  and the OpenAPI document declares the new routes and parameters.
"""
import json
import pathlib
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "e2e"))
from checks import (check, make_private, mesh_args, scratch_mesh,  # noqa: E402
                    shown_token, stop, summary)
from test_lineage import add_vip_product, dot_edges  # noqa: E402

CLV = "marketing.customer_lifetime_value"
VIP = "sales.vip_customers"


def call(base, path, token):
    req = urllib.request.Request(base + path)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


def get(base, path, token):
    status, _, body = call(base, path, token)
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body


def addresses(doc, out=None):
    """Every (id, self) pair in a JSON document: objects with `self` (and their `id`), and
    `version_self` with `version_id`."""
    out = [] if out is None else out
    if isinstance(doc, dict):
        if "self" in doc:
            out.append((doc.get("id"), doc["self"]))
        if "version_self" in doc:
            out.append((doc.get("version_id"), doc["version_self"]))
        for value in doc.values():
            addresses(value, out)
    elif isinstance(doc, list):
        for value in doc:
            addresses(value, out)
    return out


def start_server(cmd):
    server = subprocess.Popen(cmd + ["serve", "--port", "0", "--no-pg"], stdout=subprocess.PIPE,
                              text=True)
    line = server.stdout.readline()
    match = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
    return server, (match.group(1) if match else None), line


def check_every_self(base, token, who, expected):
    status, listing = get(base, "/api/v1/products", token)
    names = [p["name"] for p in listing.get("products", [])] if status == 200 else []
    check(f"{who}: {expected} products are listed, each with id and self",
          len(names) == expected and all(p["self"] == f"/api/v1/products/{p['name']}"
                                  for p in listing["products"]), listing)
    wrong, seen = [], 0
    for name in names:
        status, detail = get(base, f"/api/v1/products/{name}", token)
        pairs = addresses(detail)
        for ident, url in sorted(set(pairs)):
            seen += 1
            code, answer = get(base, url, token)
            if code != 200 or not isinstance(answer, dict) or answer.get("id") != ident:
                wrong.append((ident, url, code, str(answer)[:200]))
    check(f"{who}: every self URL in the product details answers 200 with the same id ({seen})",
          seen > 20 and not wrong, wrong)


def check_scheme(base, token):
    status, port = get(base, "/api/v1/products/orders.orders/ports/orders", token)
    check("a port: id domain.product.port, its SQL name, its columns, every major",
          status == 200 and port["id"] == "orders.orders.orders" and
          port["sql_name"] == "orders.orders.orders" and port["columns"] and
          port["versions"][0]["id"] == "orders.orders.orders@v1" and
          port["versions"][0]["sql_name"] == "orders.orders.orders__v1", port)
    status, by_number = get(base, "/api/v1/products/orders.orders/ports/orders/versions/1", token)
    status_v, by_v = get(base, "/api/v1/products/orders.orders/ports/orders/versions/v1", token)
    check("a version answers by 1 and by v1, the same document",
          status == status_v == 200 and by_number == by_v and
          by_number["id"] == "orders.orders.orders@v1" and by_number["columns"], by_number)
    status, product = get(base, "/api/v1/products/orders.orders", token)
    by_id = get(base, f"/api/v1/products/{product.get('id')}", token)
    check("a product answers by its ODPS id and by domain.product alike",
          status == 200 and by_id == (200, product), product.get("id"))
    status, column = get(base, f"/api/v1/products/{CLV}/ports/customer_lifetime_value/columns/"
                         "customer_id", token)
    ups = {(u["id"], u["direct"]) for u in column.get("lineage", {}).get("upstream", [])}
    downs = {d["id"] for d in column.get("lineage", {}).get("downstream", [])}
    check("a column: id, type, classification, business name, terms",
          status == 200 and column["id"] == f"{CLV}.customer_lifetime_value.customer_id" and
          column["type"] == "BIGINT" and column["classification"] == "internal" and
          column["business_name"] == "Customer id" and isinstance(column["terms"], list) and
          column["port"]["id"] == f"{CLV}.customer_lifetime_value" and
          column["product"]["name"] == CLV, column)
    check("a column's lineage at depth 1: customers directly, orders through a join, vip reads it",
          ("customers.customers.customers.customer_id", True) in ups and
          ("orders.orders.orders.customer_id", False) in ups and
          downs == {f"{VIP}.vip_customers.customer_id"} and
          not any(u["id"].startswith(VIP) for u in column["lineage"]["upstream"]), column)
    for kind, path, words in [
            ("port", "/api/v1/products/orders.orders/ports/nope", ["no output port nope",
                                                                   "orders"]),
            ("version", "/api/v1/products/orders.orders/ports/orders/versions/9", ["no major 9"]),
            ("version name", "/api/v1/products/orders.orders/ports/orders/versions/latest",
             ["no version"]),
            ("column", "/api/v1/products/orders.orders/ports/orders/columns/nope",
             ["no column nope", "order_id"])]:
        status, body = get(base, path, token)
        message = body["error"]["message"] if isinstance(body, dict) and "error" in body else ""
        check(f"an unknown {kind}: 404 naming what exists",
              status == 404 and body["error"]["code"] == "not_found" and
              all(w in message for w in words), (status, body))


def check_masks(base, nora, alice):
    path = "/api/v1/products/customers.customers/ports/customers/columns/email"
    status, outsider = get(base, path, nora)
    status_member, member = get(base, path, alice)
    check("a column's mask as the caller gets it: hash outside the domain, clear inside",
          status == status_member == 200 and outsider["mask"] == "hash" and
          member["mask"] is None and outsider["classification"] == "pii", (outsider, member))


def check_hidden(base, nora, erin):
    unknown = "/api/v1/products/nope.nothing"
    _, _, unknown_body = call(base, unknown, nora)
    for suffix in ["", "/ports/payments", "/ports/payments/versions/1",
                   "/ports/payments/columns/amount", "/lineage", "/lineage?format=dot"]:
        status, _, body = call(base, "/api/v1/products/payments.payments" + suffix, nora)
        _, _, unknown_body = call(base, unknown + suffix, nora)
        check(f"an outsider: payments.payments{suffix} is 404 like an unknown product",
              status == 404 and body.replace("payments.payments", "X") ==
              unknown_body.replace("nope.nothing", "X"), (status, body, unknown_body))
        status, _, _ = call(base, "/api/v1/products/payments.payments" + suffix, erin)
        check(f"a member of payments: payments.payments{suffix} answers 200", status == 200,
              status)
    for path in [f"/api/v1/products/{CLV}", f"/api/v1/products/{CLV}/lineage",
                 f"/api/v1/products/{CLV}/lineage?format=dot",
                 f"/api/v1/products/{VIP}/lineage?column=lifetime_value",
                 f"/api/v1/products/{CLV}/ports/customer_lifetime_value/columns/lifetime_value"]:
        status, _, body = call(base, path, nora)
        check(f"an outsider: {path} does not name the private product",
              status == 200 and "payments.payments" not in body, body[:300])


def check_lineage(base, token):
    lineage = f"/api/v1/products/orders.orders/lineage"
    status, full = get(base, lineage, token)
    depths = {n["id"]: n["depth"] for n in full.get("nodes", []) if n["direction"] == "downstream"}
    check("lineage: to any depth, nodes with their depth and self",
          status == 200 and depths == {CLV: 1, VIP: 2} and full["downstream"] == [CLV, VIP] and
          all(n["self"] for n in full["nodes"]) and full["product"] == "orders.orders" and
          "columns" in full and "edges" in full and "upstream" in full, full)
    status, one = get(base, lineage + "?depth=1", token)
    check("lineage ?depth=1: direct neighbours only, truncated",
          status == 200 and one["downstream"] == [CLV] and one["truncated"] and
          [e["depth"] for e in one["edges"]] == [1], one)
    status, up = get(base, f"/api/v1/products/{VIP}/lineage?direction=up", token)
    check("lineage ?direction=up: every source, nothing downstream",
          status == 200 and set(up["upstream"]) == {CLV, "customers.customers",
                                                    "orders.orders", "payments.payments"} and
          up["downstream"] == [] and up["direction"] == "upstream", up)
    status, column = get(base, f"/api/v1/products/{CLV}/lineage?column=customer_lifetime_value."
                         "lifetime_value&direction=up&depth=1", token)
    ups = {n["id"]: n["self"] for n in column.get("nodes", []) if n["direction"] == "upstream"}
    check("lineage ?column=port.column: column nodes with their URLs",
          status == 200 and column["level"] == "column" and
          ups.get("payments.payments.payments.amount") ==
          "/api/v1/products/payments.payments/ports/payments/columns/amount", column)
    bad_self = [u for u in ups.values() if get(base, u, token)[0] != 200]
    check("lineage: every column node's self answers", ups and not bad_self, bad_self)
    status, ctype, dot = call(base, f"/api/v1/products/{CLV}/lineage?format=dot", token)
    check("lineage ?format=dot: Graphviz with the edges upstream -> downstream",
          status == 200 and ctype.startswith("text/vnd.graphviz") and
          dot.startswith("digraph lineage {") and
          dot_edges(dot) == {("customers.customers", CLV), ("orders.orders", CLV),
                             ("payments.payments", CLV), (CLV, VIP)}, (status, ctype, dot))
    for query, code in [("depth=0", 400), ("depth=x", 400), ("direction=sideways", 400),
                        ("format=xml", 400), ("column=nope", 404)]:
        status, body = get(base, f"/api/v1/products/{CLV}/lineage?{query}", token)
        check(f"lineage ?{query}: {code} with a JSON error",
              status == code and isinstance(body, dict) and "error" in body, (status, body))
    status, body = get(base, f"/api/v1/products/{CLV}/lineage?column=nope", token)
    check("lineage ?column=nope names the columns", "lifetime_value" in str(body), body)


def check_openapi(base):
    status, doc = get(base, "/api/v1/openapi.json", None)
    paths = doc.get("paths", {}) if status == 200 else {}
    check("openapi documents the port, version and column routes",
          all(p in paths for p in ["/api/v1/products/{ref}/ports/{port}",
                                   "/api/v1/products/{ref}/ports/{port}/versions/{major}",
                                   "/api/v1/products/{ref}/ports/{port}/columns/{column}"]),
          sorted(paths))
    params = {p["name"] for p in paths.get("/api/v1/products/{ref}/lineage", {})
              .get("get", {}).get("parameters", [])}
    check("openapi declares lineage's depth, direction, column and format",
          {"depth", "direction", "column", "format"} <= params, params)


def main():
    args = mesh_args()
    work, mesh, _, cmd = scratch_mesh(args, "plexus-addressing-")
    server = None
    try:

        def px(*argv):
            return subprocess.run(cmd + list(argv), capture_output=True, text=True)

        done = px("apply")
        check("plexus apply", done.returncode == 0, done.stdout + done.stderr)
        token = px("token", "issue").stdout.strip()
        alice = px("token", "issue", "alice").stdout.strip()
        erin = px("token", "issue", "erin").stdout.strip()
        created = px("principal", "create", "nora", "--token")
        nora = shown_token(created.stdout)
        server, base, line = start_server(cmd)
        check("serve prints its address", base is not None, line)
        if base is None:
            return
        lineage = "/api/v1/products/orders.orders/lineage"
        before = get(base, lineage, token)[1]
        add_vip_product(mesh)
        done = px("apply")
        after = get(base, lineage, token)[1]
        check("a running server's lineage follows an apply that adds a level",
              done.returncode == 0 and before.get("downstream") == [CLV] and
              after.get("downstream") == [CLV, VIP], (before, after, done.stderr))
        check_every_self(base, token, "admin", 6)
        check_scheme(base, token)
        check_masks(base, nora, alice)
        check_lineage(base, token)
        check_openapi(base)
        make_private(mesh, "payments")
        done = px("apply")
        check("payments made private", done.returncode == 0, done.stdout + done.stderr)
        check_hidden(base, nora, erin)
        shown = subprocess.run(cmd + ["--token", nora, "show", CLV], capture_output=True,
                               text=True)
        check("an outsider: plexus show of a reader of the private product does not name it",
              shown.returncode == 0 and "payments.payments" not in shown.stdout and
              "a port you may not see" in shown.stdout,
              (shown.returncode, shown.stderr, shown.stdout[-600:]))
        shown = subprocess.run(cmd + ["--token", erin, "show", CLV], capture_output=True,
                               text=True)
        check("a member of payments: plexus show names the upstream port",
              "payments.payments.payments" in shown.stdout, shown.stdout + shown.stderr)
        check_every_self(base, nora, "an outsider", 5)
    finally:
        stop(server)
        shutil.rmtree(work, ignore_errors=True)
        sys.exit(summary())


if __name__ == "__main__":
    main()
