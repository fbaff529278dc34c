#!/usr/bin/env python3
"""The HTTP API, end to end: a real `plexus serve` on 127.0.0.1 (a free port), real requests.

Builds the example mesh in a fresh home, starts the server, and checks what a client sees:
product listing and detail, a streamed cross-domain query in JSON/CSV/NDJSON, and that bad
requests get a 4xx with a JSON error (refused SQL 403, malformed body 400, unknown product
404) while the server keeps serving.
"""
import pathlib
import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
from checks import check, summary  # noqa: E402


TOKEN = {"value": None}  # the admin's API token, issued after apply


def request(base, path, body=None, content_type="application/json", token="default"):
    data = None if body is None else (body if isinstance(body, bytes) else body.encode())
    req = urllib.request.Request(base + path, data=data, method="POST" if data else "GET")
    token = TOKEN["value"] if token == "default" else token
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--plexus", required=True)
    parser.add_argument("--mesh", required=True)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="plexus-http-")
    server = None
    try:
        base_cmd = [args.plexus, "--mesh", args.mesh, "--home", home]
        subprocess.run(base_cmd + ["apply"], check=True, capture_output=True)
        subprocess.run(base_cmd + ["run", "--all"], check=True, capture_output=True)
        issued = subprocess.run(base_cmd + ["token", "issue", "--label", "http test"],
                                check=True, capture_output=True, text=True)
        TOKEN["value"] = issued.stdout.strip()
        check("token issue prints one plx_ token", TOKEN["value"].startswith("plx_"), issued.stdout)
        server = subprocess.Popen(base_cmd + ["serve", "--port", "0", "--no-pg"], stdout=subprocess.PIPE,
                                  text=True)
        line = server.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        check("serve prints its address", match is not None, line)
        if not match:
            return
        base = f"http://127.0.0.1:{match.group(1)}"

        status, _, body = request(base, "/healthz", token=None)
        check("healthz answers 200 without signing in", status == 200)
        for token, what in [(None, "no token"), ("plx_nope_nope", "an unknown token"),
                            ("garbage", "a malformed token")]:
            status, _, body = request(base, "/api/v1/products", token=token)
            check(f"{what}: 401 with a JSON error",
                  status == 401 and json.loads(body)["error"]["code"] == "unauthenticated",
                  (status, body))

        status, ctype, body = request(base, "/api/v1/products")
        products = json.loads(body)["products"]
        names = sorted(p["name"] for p in products)
        check("lists the five example products", status == 200 and len(names) == 5, names)
        check("products are JSON", ctype.startswith("application/json"))
        clv = [p for p in products if p["name"] == "marketing.customer_lifetime_value"]
        check("ports carry their SQL name and rows",
              clv and clv[0]["output_ports"][0]["sql_name"] ==
              "marketing.customer_lifetime_value.customer_lifetime_value"
              and clv[0]["output_ports"][0]["rows"] > 0)

        status, _, body = request(base, "/api/v1/products/orders.orders")
        detail = json.loads(body)
        cols = [c["name"] for c in detail["output_ports"][0]["columns"]]
        check("product detail by domain.product has columns and runs",
              status == 200 and "order_id" in cols and detail["runs"][0]["status"] == "succeeded")
        status, _, body = request(base, "/api/v1/products/" + detail["id"])
        check("product detail by id", status == 200 and json.loads(body)["name"] == "orders.orders")

        status, _, body = request(base, "/api/v1/products/nope.nope")
        check("unknown product is 404 with a JSON error",
              status == 404 and json.loads(body)["error"]["code"] == "not_found")

        sql = ("SELECT c.country, count(*) AS n FROM "
               "marketing.customer_lifetime_value.customer_lifetime_value l "
               "JOIN customers.customers.customers c USING (customer_id) "
               "GROUP BY 1 ORDER BY 1")
        status, _, body = request(base, "/api/v1/query", json.dumps({"sql": sql}))
        rows = json.loads(body)
        cli = subprocess.run(base_cmd + ["query", "--format", "json", sql], check=True,
                             capture_output=True, text=True)
        check("cross-domain query over HTTP equals the CLI's answer",
              status == 200 and rows == json.loads(cli.stdout) and len(rows) > 0)

        status, ctype, body = request(base, "/api/v1/query?format=csv", sql, "text/plain")
        check("CSV format from a text/plain body",
              status == 200 and ctype.startswith("text/csv") and body.splitlines()[0] == "country,n"
              and len(body.splitlines()) == len(rows) + 1)
        status, _, body = request(base, "/api/v1/query",
                                  json.dumps({"sql": sql, "format": "ndjson"}))
        check("NDJSON format", status == 200 and
              [json.loads(l) for l in body.splitlines()] == rows)

        for bad_sql, what in [("DELETE FROM orders.orders.orders", "DELETE"),
                              ("SELECT * FROM read_csv('/etc/passwd')", "read_csv"),
                              ("SELECT * FROM plx_orders.main.orders__orders__v1", "plx_orders")]:
            status, _, body = request(base, "/api/v1/query", json.dumps({"sql": bad_sql}))
            err = json.loads(body).get("error", {})
            check(f"refused over HTTP: {what}",
                  400 <= status < 500 and what in err.get("message", ""), (status, body))

        status, _, body = request(base, "/api/v1/query", "{not json")
        check("malformed JSON body is 400", status == 400 and "error" in json.loads(body))
        status, _, body = request(base, "/api/v1/query", json.dumps({"sql": "SELEC 1"}))
        check("SQL syntax error is 400", status == 400)
        status, _, body = request(base, "/api/v1/query", json.dumps({"sql": "SELECT 1", "format": "xml"}))
        check("unknown format is 400", status == 400)
        status, _, _ = request(base, "/healthz")
        check("server still serving after bad requests", status == 200 and server.poll() is None)
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(home, ignore_errors=True)
        sys.exit(summary())


if __name__ == "__main__":
    main()
