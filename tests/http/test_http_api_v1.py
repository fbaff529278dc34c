#!/usr/bin/env python3
"""The complete HTTP API and the CLI through a running server, end to end.

A real `plexus serve` (HTTP only, a free port) over the example mesh, real requests:
- the OpenAPI document matches the real routes: every documented path and method answers
  something other than 404/405 with a valid token, and an undocumented path or method does
  get 404/405 (so every route the server serves is documented);
- JSON errors: 404 for unknown routes, 405 with Allow, 413 for a body over the limit;
- /healthz and /readyz; pagination (limit, cursor, next) on lists, the audit trail's by keyset;
  contracts, versions, lineage, search, runs and quality as the caller may see them;
- a 2,000,000-row query streams back whole while the server's peak memory (VmHWM) stays flat;
- with the server running, `plexus query` and `plexus apply` (no token: the home's admin
  through <home>/server.json) answer exactly as without a server; --server with a token too;
  the file is 0600, removed at exit, and a stale one is ignored.
"""
import argparse
import json
import os
import pathlib
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
from checks import check, summary  # noqa: E402


def call(base, method, path, token=None, body=None, raw=None):
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(base + path, data=data, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def get_json(base, path, token):
    status, _, body = call(base, "GET", path, token)
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body


def vm_hwm_kb(pid):
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def start_server(cmd):
    server = subprocess.Popen(cmd + ["serve", "--port", "0", "--no-pg"], stdout=subprocess.PIPE,
                              text=True)
    line = server.stdout.readline()
    match = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
    return server, (match.group(1) if match else None), line


def stop_server(server):
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()


def check_openapi(base, token, ids):
    status, doc = get_json(base, "/api/v1/openapi.json", None)
    check("openapi.json answers without a token", status == 200 and doc.get("openapi", "")
          .startswith("3."), status)
    paths = doc.get("paths", {})
    check("openapi documents the main routes",
          all(p in paths for p in ["/api/v1/products", "/api/v1/query", "/api/v1/search",
                                   "/api/v1/runs", "/api/v1/products/{ref}/lineage",
                                   "/api/v1/access/grants", "/healthz", "/readyz"]),
          sorted(paths))
    values = {"ref": "orders.orders", "id": str(ids.get("contract", "1")), "name": "admin",
              "key": "team", "group": "probe_group"}
    wrong = []
    for path, methods in paths.items():
        for method, op in methods.items():
            concrete = re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "x"), path)
            if "/runs/{id}" in path:
                concrete = path.replace("{id}", str(ids["run"]))
            if "/contracts/{id}" in path:
                concrete = path.replace("{ref}", "orders.orders").replace("{id}", ids["contract"])
            body = {} if method in ("post", "put") else None
            status, _, answer = call(base, method.upper(), concrete, token, body)
            # A handler's own 404 (an unknown product...) names the thing; the router's says
            # "no route".
            if status == 405 or (status == 404 and b"no route" in answer):
                wrong.append((method, concrete, status))
            if not op.get("responses") or not op.get("summary"):
                wrong.append((method, path, "undocumented responses/summary"))
    check("every documented route answers (not 404/405)", not wrong, wrong)
    for method, path in [("GET", "/api/v1/nothing"), ("GET", "/api/v1/products/a/b/c"),
                         ("PATCH", "/api/v1/products"), ("DELETE", "/api/v1/query"),
                         ("PUT", "/api/v1/runs")]:
        status, headers, body = call(base, method, path, token)
        documented = path in paths and method.lower() in paths[path]
        check(f"undocumented {method} {path} is 404/405 with a JSON error",
              not documented and status in (404, 405) and
              json.loads(body)["error"]["code"] in ("not_found", "method_not_allowed"),
              (status, body))
    codes = doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]
    check("the error codes are documented", "not_found" in codes.get("enum", []), codes)


def check_errors_and_health(base, token):
    status, headers, body = call(base, "DELETE", "/api/v1/products", token)
    check("wrong method: 405 with Allow and a JSON error",
          status == 405 and headers.get("Allow") == "GET" and
          json.loads(body)["error"]["code"] == "method_not_allowed", (status, headers, body))
    status, _, body = call(base, "POST", "/api/v1/query", token, raw=b"x" * (2 << 20))
    check("a body over the limit: 413 with a JSON error",
          status == 413 and json.loads(body)["error"]["code"] == "payload_too_large",
          (status, body[:200]))
    status, _, body = call(base, "GET", "/api/v1/nope", None)
    check("unknown route: 404 JSON even without a token",
          status == 404 and json.loads(body)["error"]["code"] == "not_found", (status, body))
    check("healthz", get_json(base, "/healthz", None) == (200, {"status": "ok"}))
    check("readyz", get_json(base, "/readyz", None) == (200, {"status": "ready"}))


def check_reads(base, token):
    status, page1 = get_json(base, "/api/v1/products?limit=2", token)
    check("products page 1 has 2 and a next link",
          status == 200 and len(page1["products"]) == 2 and page1["next_cursor"], page1)
    names, page, pages = [p["name"] for p in page1["products"]], page1, 1
    while page.get("next") and pages < 10:
        status, page = get_json(base, page["next"], token)
        names += [p["name"] for p in page.get("products", [])]
        pages += 1
    check("following next gives the rest in pages of 2, no repeats",
          len(names) == 5 == len(set(names)) and pages == 3 and page["next"] is None, names)
    status, body = get_json(base, "/api/v1/products?limit=0", token)
    check("limit=0 is 400", status == 400, body)
    status, body = get_json(base, "/api/v1/products?limit=5000", token)
    check("limit over the maximum is 400", status == 400, body)

    status, contracts = get_json(base, "/api/v1/products/orders.orders/contracts", token)
    check("contracts as applied, with their ODCS text",
          status == 200 and contracts["contracts"] and
          "apiVersion" in contracts["contracts"][0]["source"], contracts)
    cid = contracts["contracts"][0]["id"] if status == 200 and contracts["contracts"] else "x"
    status, _, yaml_text = call(base, "GET",
                                f"/api/v1/products/orders.orders/contracts/{cid}?format=yaml",
                                token)
    check("one contract as YAML, byte for byte as stored",
          status == 200 and yaml_text.decode() == contracts["contracts"][0]["source"])
    status, versions = get_json(base, "/api/v1/products/orders.orders/versions", token)
    check("versions of each port", status == 200 and versions["versions"][0]["major"] >= 1,
          versions)
    status, lineage = get_json(base, "/api/v1/products/marketing.customer_lifetime_value/lineage",
                               token)
    check("lineage: upstream products and column lineage",
          status == 200 and "orders.orders" in lineage["upstream"] and
          "customers.customers" in lineage["upstream"] and lineage["columns"], lineage)
    status, lineage = get_json(base, "/api/v1/products/orders.orders/lineage", token)
    check("lineage: downstream", status == 200 and
          "marketing.customer_lifetime_value" in lineage["downstream"], lineage)
    status, found = get_json(base, "/api/v1/search?q=lifetime", token)
    check("search ranks the product named by the word first",
          status == 200 and found["results"][0]["name"] == "marketing.customer_lifetime_value",
          found)
    status, body = get_json(base, "/api/v1/search?q=", token)
    check("search without words is 400", status == 400, body)
    status, runs = get_json(base, "/api/v1/runs?limit=1", token)
    check("runs, newest first, paged", status == 200 and len(runs["runs"]) == 1 and
          runs["next"], runs)
    run_id = runs["runs"][0]["id"] if status == 200 and runs["runs"] else 0
    status, run = get_json(base, f"/api/v1/runs/{run_id}", token)
    check("one run with its quality results", status == 200 and "quality" in run, run)
    status, quality = get_json(base, "/api/v1/products/orders.orders/quality", token)
    check("quality results of a product", status == 200 and "results" in quality, quality)
    return {"run": run_id, "contract": cid}


def check_audit_pages(base, token):
    """The audit trail pages by keyset: following `next` walks every record once, newest first,
    even while queries made between the pages append records."""
    status, whole = get_json(base, "/api/v1/audit?limit=1000", token)
    check("the audit trail in one page", status == 200 and len(whole["records"]) >= 6, whole)
    if status != 200:
        return
    expected = [r["seq"] for r in whole["records"]]
    status, page = get_json(base, "/api/v1/audit?limit=4", token)
    seen = []
    while status == 200:
        seen += [r["seq"] for r in page["records"]]
        # Appended between pages: newer than every page still to come, so never in them.
        call(base, "POST", "/api/v1/query", token, {"sql": "SELECT 1 AS one"})
        if page["next"] is None:
            break
        status, page = get_json(base, page["next"], token)
    check("following the audit's next links gives each record once, newest first",
          seen == expected, (seen[:12], expected[:12]))
    status, page = get_json(base, f"/api/v1/audit?limit=2&cursor={expected[2]}", token)
    check("a cursor is the seq the page continues below",
          status == 200 and [r["seq"] for r in page["records"]] == expected[3:5], page)
    status, body = get_json(base, "/api/v1/audit?cursor=-1", token)
    check("a malformed audit cursor is 400", status == 400, body)


def check_restricted(base, cmd):
    subprocess.run(cmd + ["principal", "create", "vera"], check=True, capture_output=True)
    vera = subprocess.run(cmd + ["token", "issue", "vera"], check=True,
                          capture_output=True, text=True).stdout.strip()
    status, body = get_json(base, "/api/v1/search?q=orders", vera)
    visible = {p["name"] for p in get_json(base, "/api/v1/products", vera)[1]["products"]}
    check("search shows only what the caller may see",
          status == 200 and {r["name"] for r in body["results"]} <= visible, (body, visible))
    status, _, body = call(base, "POST", "/api/v1/mesh/apply", vera, {"path": "/tmp"})
    check("apply over HTTP is for admins only", status == 403, body)
    return vera


def check_streaming(base, token, pid):
    sql = ("SELECT r.range AS n, c.customer_id, 'some text to make the row wider' AS pad "
           "FROM range(2000000) r, "
           "(SELECT customer_id FROM customers.customers.customers LIMIT 1) c")
    call(base, "POST", "/api/v1/query?format=ndjson", token, raw=b"SELECT 1")  # warm up
    before = vm_hwm_kb(pid)
    req = urllib.request.Request(base + "/api/v1/query", method="POST",
                                 data=json.dumps({"sql": sql, "format": "ndjson"}).encode())
    req.add_header("Authorization", "Bearer " + token)
    req.add_header("Content-Type", "application/json")
    lines, size, last = 0, 0, b""
    with urllib.request.urlopen(req, timeout=300) as resp:
        while True:
            block = resp.read(1 << 20)
            if not block:
                break
            size += len(block)
            lines += block.count(b"\n")
            last = (last + block)[-200:]
    after = vm_hwm_kb(pid)
    check("2,000,000 rows stream back whole", lines == 2000000 and
          json.loads(last.splitlines()[-1])["n"] == 1999999, (lines, last[-100:]))
    grown_mb = (after - before) / 1024
    check(f"server peak memory stays flat ({size >> 20} MB sent, peak grew {grown_mb:.0f} MB)",
          grown_mb < 0.5 * size / (1 << 20), (before, after))


def cli_through_server(cmd, home, mesh, sql, local_query, local_apply, vera):
    server, base, line = start_server(cmd)
    check("serve prints its HTTP address", base is not None, line)
    if base is None:
        return
    try:
        server_file = pathlib.Path(home) / "server.json"
        info = json.loads(server_file.read_text())
        check("serve writes <home>/server.json, readable by its owner only",
              info["http_url"] == base and info["pid"] == server.pid and
              stat.S_IMODE(server_file.stat().st_mode) == 0o600, info)
        query = subprocess.run(cmd + ["query", "--format", "csv", sql], capture_output=True,
                               text=True)
        check("plexus query while serve runs: the same answer",
              query.returncode == 0 and query.stdout == local_query, query.stderr)
        table = subprocess.run(cmd + ["query", sql], capture_output=True, text=True)
        local_table = subprocess.run(cmd + ["--server", "http://127.0.0.1:1", "--token", "x",
                                            "query", sql], capture_output=True, text=True)
        check("an unreachable --server is a one-line error, exit 1",
              local_table.returncode == 1 and "cannot reach" in local_table.stderr,
              local_table.stderr)
        check("the table format through the server", table.returncode == 0 and
              table.stdout.splitlines()[0].startswith("country"), table.stdout)
        apply = subprocess.run(cmd + ["apply"], capture_output=True, text=True)
        check("plexus apply while serve runs: the same output",
              apply.returncode == 0 and apply.stdout == local_apply, (apply.stdout, apply.stderr))
        bad = subprocess.run(cmd + ["query", "DELETE FROM orders.orders.orders"],
                             capture_output=True, text=True)
        check("a refused query through the server: exit 1, the same message",
              bad.returncode == 1 and "DELETE statements are not allowed" in bad.stderr,
              bad.stderr)
        audit = subprocess.run(cmd + ["--server", base, "--token", vera, "query", "--format",
                                      "csv", sql], capture_output=True, text=True,
                               env={**os.environ, "PLEXUS_SERVER": ""})
        check("--server with a restricted token: refused like the local CLI",
              audit.returncode == 1 and "plexus: error:" in audit.stderr, audit.stderr)
        no_token = subprocess.run([cmd[0], "--home", tempfile.gettempdir() + "/nohome-plexus",
                                   "--server", base, "query", "SELECT 1"],
                                  capture_output=True, text=True)
        check("--server of another home without a token: asks for one",
              no_token.returncode == 1 and "needs a token" in no_token.stderr, no_token.stderr)
    finally:
        stop_server(server)
    check("serve removes server.json at exit", not (pathlib.Path(home) / "server.json").exists())
    (pathlib.Path(home) / "server.json").write_text(json.dumps(
        {"pid": 2 ** 22 + 12345, "http_url": "http://127.0.0.1:1", "admin_token": "plx_x_y"}))
    query = subprocess.run(cmd + ["query", "--format", "csv", sql], capture_output=True,
                           text=True)
    check("a stale server.json (process gone) is ignored",
          query.returncode == 0 and query.stdout == local_query, query.stderr)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--plexus", required=True)
    parser.add_argument("--mesh", required=True)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="plexus-http-v1-")
    mesh = os.path.join(home, "mesh")
    shutil.copytree(args.mesh, mesh, ignore=shutil.ignore_patterns(".plexus"))
    cmd = [args.plexus, "--mesh", mesh, "--home", os.path.join(home, "home")]
    env_home = os.path.join(home, "home")
    server = None
    try:
        subprocess.run(cmd + ["apply"], check=True, capture_output=True)
        subprocess.run(cmd + ["run", "--all"], check=True, capture_output=True)
        token = subprocess.run(cmd + ["token", "issue"], check=True, capture_output=True,
                               text=True).stdout.strip()
        sql = ("SELECT c.country, count(*) AS n FROM "
               "marketing.customer_lifetime_value.customer_lifetime_value l "
               "JOIN customers.customers.customers c USING (customer_id) GROUP BY 1 ORDER BY 1")
        local_query = subprocess.run(cmd + ["query", "--format", "csv", sql], check=True,
                                     capture_output=True, text=True).stdout
        local_apply = subprocess.run(cmd + ["apply"], check=True, capture_output=True,
                                     text=True).stdout
        server, base, line = start_server(cmd)
        check("serve prints its address", base is not None, line)
        if base is None:
            return
        check_errors_and_health(base, token)
        ids = check_reads(base, token)
        check_openapi(base, token, ids)
        check_audit_pages(base, token)
        vera = check_restricted(base, cmd)
        check_streaming(base, token, server.pid)
        status, _, _ = call(base, "GET", "/healthz")
        check("the server still serves", status == 200 and server.poll() is None)
        stop_server(server)
        server = None
        cli_through_server(cmd, env_home, mesh, sql, local_query, local_apply, vera)
    finally:
        if server is not None:
            stop_server(server)
        shutil.rmtree(home, ignore_errors=True)
        sys.exit(summary())


if __name__ == "__main__":
    main()
