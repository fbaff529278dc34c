#!/usr/bin/env python3
"""Structured logs, request ids and `plexus status`, end to end (issue 9, scope 7).

On a copy of the example mesh, applied and run:
- `plexus status` on a pipe: the header and one line per product, no colour escapes; with
  --format json: the documented shape; --check exits 0, and 1 once a pipeline is paused;
- `plexus serve --log-file F`: a client's X-Request-Id is echoed (errors included), a bad one
  replaced by a new 16-hex id, and the log file gets exactly one http.request line per request
  (request_id, method, path without the query, status, ms, bytes, principal); a run through
  the server is a pipeline.run line; a psql session pg.connect, pg.query, pg.disconnect;
- `--log-level` refuses a level it does not know.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time
import pathlib
import urllib.error
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
from checks import check, mesh_args, scratch_mesh, stop, summary  # noqa: E402

PRODUCTS = ["customers.customers", "orders.orders", "payments.payments",
            "marketing.customer_lifetime_value", "orders.shipments"]


def px(base, *argv, env=None):
    return subprocess.run(base + list(argv), capture_output=True, text=True, timeout=300, env=env)


def request(url, request_id=None, token=None):
    req = urllib.request.Request(url)
    if request_id is not None:
        req.add_header("X-Request-Id", request_id)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            return res.status, res.headers.get("X-Request-Id"), res.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("X-Request-Id"), e.read()


def log_lines(path):
    lines = []
    for raw in pathlib.Path(path).read_text().splitlines():
        lines.append(json.loads(raw))  # every line is one JSON object
    return lines


def check_status(base):
    shown = px(base, "status")
    check("plexus status answers 0", shown.returncode == 0, shown.stdout + shown.stderr)
    out = shown.stdout
    check("the header names the products, runs, SLOs, alerts and paused pipelines",
          out.startswith("mesh ") and "5 products" in out.splitlines()[0] and
          "runs (24 h): " in out and "SLOs: " in out and "alerts: " in out and "paused: " in out,
          out)
    check("one line per product, each with its last run", all(
        re.search(r"^" + re.escape(p) + r"\s+succeeded \d+[smhd] ago, \d+ rows", out, re.M)
        for p in PRODUCTS), out)
    check("no colour on a pipe", "\x1b[" not in out, repr(out[:300]))

    as_json = px(base, "status", "--format", "json")
    doc = json.loads(as_json.stdout) if as_json.returncode == 0 else {}
    summary_ = doc.get("summary", {})
    check("--format json: mesh, at, ok, summary and products",
          {"mesh", "at", "ok", "summary", "products"} <= set(doc) and doc.get("ok") is True,
          as_json.stdout[:500] + as_json.stderr)
    check("--format json: the summary's figures",
          summary_.get("products") == 5 and summary_.get("runs_24h", 0) >= 5 and
          summary_.get("failed_runs_24h") == 0 and
          set(summary_.get("slos", {})) == {"met", "at_risk", "breached", "unknown"} and
          summary_.get("alerts_firing") == 0 and summary_.get("paused") == 0, summary_)
    items = {p["product"]: p for p in doc.get("products", [])}
    check("--format json: each product's last run, quality, trust, alerts and pause",
          set(items) == set(PRODUCTS) and all(
              i["last_run"]["status"] == "succeeded" and i["last_run"]["rows"] > 0 and
              "freshness" in i and "quality" in i and "trust_score" in i and
              i["alerts_firing"] == 0 and i["paused"] is None for i in items.values()),
          doc.get("products"))
    checked = px(base, "status", "--check")
    check("--check exits 0 when nothing fails", checked.returncode == 0, checked.stderr)
    no_colour = px(base, "status", env=dict(os.environ, NO_COLOR="1"))
    check("NO_COLOR is fine too", no_colour.returncode == 0 and "\x1b[" not in no_colour.stdout)


def check_paused(base):
    paused = px(base, "pipeline", "pause", "orders.orders", "--reason", "maintenance")
    if paused.returncode != 0:
        paused = px(base, "pipeline", "pause", "orders.orders")
    check("a pipeline pauses", paused.returncode == 0, paused.stdout + paused.stderr)
    checked = px(base, "status", "--check")
    check("--check exits 1 while a pipeline is paused, and says why on stderr",
          checked.returncode == 1 and "paused" in checked.stderr and
          re.search(r"^orders\.orders .*paused", checked.stdout, re.M) is not None,
          checked.stdout + checked.stderr)
    px(base, "pipeline", "resume", "orders.orders")


def check_logs(base, work):
    log = os.path.join(work, "serve.log")
    bad = px(base, "serve", "--port", "0", "--no-pg", "--log-level", "chatty")
    check("--log-level refuses an unknown level", bad.returncode != 0 and "log-level" in bad.stderr,
          bad.stderr)
    password = subprocess.run(base + ["principal", "password", "admin"], input="wire-pass-1\n",
                              capture_output=True, text=True, timeout=60)
    check("admin gets a wire password", password.returncode == 0, password.stderr)
    server = subprocess.Popen(base + ["serve", "--port", "0", "--pg-port", "0", "--log-file", log,
                                      "--log-level", "info"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        match = re.search(r"(http://127\.0\.0\.1:\d+)/", server.stdout.readline())
        check("serve prints its HTTP line on stdout as before", match is not None)
        pg = re.search(r"protocol on [\d.]+:(\d+)", server.stdout.readline())
        check("and its wire protocol line", pg is not None)
        url = match.group(1)
        status, echoed, _ = request(url + "/healthz?probe=1", "test-req.42_A")
        check("a valid X-Request-Id is echoed", status == 200 and echoed == "test-req.42_A",
              (status, echoed))
        status, made, _ = request(url + "/healthz", "bad id!")
        check("an invalid one is replaced by 16 hex digits",
              status == 200 and made is not None and re.fullmatch(r"[0-9a-f]{16}", made), made)
        status, fresh, _ = request(url + "/healthz")
        check("no id: a new one", fresh is not None and re.fullmatch(r"[0-9a-f]{16}", fresh) and
              fresh != made, fresh)
        status, denied_id, body = request(url + "/api/v1/products", "denied-1")
        check("an error answer carries the request id too",
              status == 401 and denied_id == "denied-1", (status, body))
        time.sleep(0.3)
        lines = log_lines(log)
        requests = [x for x in lines if x.get("event") == "http.request"]
        mine = [x for x in requests if x.get("request_id") == "test-req.42_A"]
        check("one http.request line for that request", len(mine) == 1, requests)
        line = mine[0] if mine else {}
        check("its fields: method, path without the query, status, ms, bytes",
              line.get("method") == "GET" and line.get("path") == "/healthz" and
              line.get("status") == 200 and isinstance(line.get("ms"), (int, float)) and
              line.get("bytes", 0) > 0 and line.get("level") == "info", line)
        check("the line starts with ts (ISO 8601 UTC, ms), level, event",
              list(line)[:3] == ["ts", "level", "event"] and
              re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line.get("ts", "")), line)
        check("one line per request, each with its own id",
              len(requests) == 4 and {x["request_id"] for x in requests} ==
              {"test-req.42_A", made, fresh, "denied-1"}, requests)
        check("nothing but JSON lines went to the log file", all("event" in x for x in lines))
        check_streamed(url, log, os.path.join(work, "home", "server.json"))
        check_run_and_wire(base, log, pg.group(1) if pg else None)
    finally:
        stop(server)
    _, err = server.communicate()
    check("stderr holds no log line when --log-file is given", '"http.request"' not in err, err)


def check_streamed(url, log, server_file):
    """A streamed query result's bytes are counted as they are written."""
    token = json.loads(pathlib.Path(server_file).read_text())["admin_token"]
    req = urllib.request.Request(url + "/api/v1/query", method="POST", data=json.dumps(
        {"sql": "SELECT * FROM orders.orders.orders", "format": "ndjson"}).encode())
    req.add_header("Authorization", "Bearer " + token)
    req.add_header("Content-Type", "application/json")
    req.add_header("X-Request-Id", "streamed-1")
    with urllib.request.urlopen(req, timeout=60) as res:
        body = res.read()
    time.sleep(0.3)
    line = [x for x in log_lines(log) if x.get("request_id") == "streamed-1"]
    check("a streamed result: bytes as sent, and the principal",
          len(line) == 1 and line[0].get("bytes") == len(body) > 0 and
          line[0].get("principal") == "admin", (len(body), line))


def check_run_and_wire(base, log, pg_port):
    """A run through the server is a pipeline.run line; a wire session pg.* lines."""
    ran = px(base, "run", "orders.orders")
    check("plexus run goes through the server", ran.returncode == 0, ran.stdout + ran.stderr)
    if shutil.which("psql") and pg_port:
        env = dict(os.environ, PGPASSWORD="wire-pass-1", PGCONNECT_TIMEOUT="10")
        conninfo = f"host=127.0.0.1 port={pg_port} dbname=plexus user=admin sslmode=require"
        asked = subprocess.run(["psql", conninfo, "-X", "-A", "-t", "-c",
                                "SELECT count(*) FROM orders.orders.orders WHERE order_id > 3",
                                "-c", "SELECT no_such_column FROM orders.orders.orders"],
                               capture_output=True, text=True, timeout=60, env=env)
        check("psql asks two statements", "42703" in asked.stderr or "ERROR" in asked.stderr,
              asked.stdout + asked.stderr)
    time.sleep(0.5)
    lines = log_lines(log)
    runs = [x for x in lines if x.get("event") == "pipeline.run"]
    check("the run is a pipeline.run line", any(
        x.get("product") == "orders.orders" and x.get("status") == "succeeded" and
        x.get("rows", {}).get("orders", 0) > 0 and x.get("trigger") == "manual" for x in runs),
        runs)
    posted = [x for x in lines if x.get("event") == "http.request" and x.get("method") == "POST"]
    check("its request is logged with the signed-in principal",
          any(x.get("path") == "/api/v1/runs" and x.get("principal") == "admin" for x in posted),
          posted)
    if not (shutil.which("psql") and pg_port):
        return
    pg = [x for x in lines if x.get("event", "").startswith("pg.")]
    events = [x["event"] for x in pg]
    check("a wire session: pg.connect, one pg.query per statement, pg.disconnect",
          events == ["pg.connect", "pg.query", "pg.query", "pg.disconnect"] and
          len({x["connection_id"] for x in pg}) == 1 and pg[0].get("user") == "admin" and
          pg[0].get("tls") is True, pg)
    if len(pg) == 4:
        check("pg.query: rows when it succeeds, the SQLSTATE when it fails, never the text",
              pg[1].get("rows") == 1 and "sqlstate" not in pg[1] and
              pg[2].get("sqlstate") not in (None, "") and pg[2].get("level") == "warn" and
              "order_id" not in json.dumps(pg) and "no_such_column" not in json.dumps(pg), pg)


def main():
    args = mesh_args()
    work, mesh, home, base = scratch_mesh(args, "plexus-logs-status-")
    try:
        applied = px(base, "apply")
        check("the example mesh applies", applied.returncode == 0, applied.stdout + applied.stderr)
        ran = px(base, "run", "--all")
        check("its products run", ran.returncode == 0, ran.stdout + ran.stderr)
        check("a run on a pipe draws no progress on stderr",
              "\r" not in ran.stderr and "ETA" not in ran.stderr, repr(ran.stderr[:300]))
        check_status(base)
        check_paused(base)
        check_logs(base, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        return summary()


if __name__ == "__main__":
    sys.exit(main())
