#!/usr/bin/env python3
"""Pipelines scheduled inside plexus serve, on the engine that serves the queries.

On a copy of the example mesh: orders runs `every: 2s` and republishes while the server
serves (a changed input file shows up in a query through the server); payments fails and is
retried with a doubling backoff, each attempt recorded; `plexus run` goes through the running
server; customer_lifetime_value runs `onUpstream` after payments publishes; pause and resume;
the run history (`plexus runs`, GET /api/v1/runs) says why each run ran. Then the push endpoint
of an http CDC input: the right tokens apply, the wrong ones are refused.
"""
import json
import pathlib
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
from checks import check, mesh_args, scratch_mesh, stop, summary  # noqa: E402


def append(path, text):
    with open(path, "a") as f:
        f.write(text)


def http(method, url, token, body=None, content_type="application/json"):
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method=method)
    if token is not None:
        req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            return res.status, json.loads(res.read() or b"null")
    except urllib.error.HTTPError as e:
        text = e.read()
        try:
            return e.code, json.loads(text)
        except ValueError:
            return e.code, text


def wait_for(condition, seconds):
    """Polls `condition` until it returns something true or `seconds` pass; returns its last."""
    deadline = time.time() + seconds
    while True:
        value = condition()
        if value or time.time() > deadline:
            return value
        time.sleep(0.25)


def start_server(px_cmd, *extra):
    server = subprocess.Popen(px_cmd + ["serve", "--port", "0", "--no-pg",
                                        "--governance-interval", "0", *extra],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = server.stdout.readline()
    match = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
    return server, (match.group(1) if match else None), line


def scheduling(args):
    work, mesh, home, px_cmd = scratch_mesh(args, "plexus-schedule-")
    server = None

    def px(*a):
        return subprocess.run(px_cmd + list(a), capture_output=True, text=True, timeout=60)

    def runs(product):
        r = px("runs", product, "--limit", "50", "--format", "json")
        return list(reversed(json.loads(r.stdout))) if r.returncode == 0 else []

    try:
        domains = pathlib.Path(mesh) / "domains"
        append(domains / "orders/orders/pipeline.yaml", "schedule:\n  every: 2s\n")
        payments = domains / "payments/payments"
        append(payments / "pipeline.yaml",
               "schedule:\n  every: 1h\nretries:\n  attempts: 3\n  backoff: 1s\n")
        append(domains / "marketing/customer_lifetime_value/pipeline.yaml",
               "schedule:\n  onUpstream: true\nretries:\n  attempts: 1\n")
        payments_file = payments / "data/payments.json"
        good_payments = payments_file.read_text()
        payments_file.write_text("this is not JSON\n")
        check("apply", px("apply").returncode == 0)
        r = px("run", "orders.orders", "customers.customers")
        check("the first runs, without a server", r.returncode == 0, r.stdout + r.stderr)

        server, url, line = start_server(px_cmd)
        check("serve starts and prints its HTTP address", url is not None, line)

        # A failing scheduled run: payments never ran, so it runs at once, fails, and is tried
        # twice more after 1 s and 2 s.
        attempts = wait_for(lambda: [r for r in runs("payments.payments")
                                     if r["status"] == "failed"][2:] and
                            [r for r in runs("payments.payments") if r["status"] == "failed"],
                            15) or []
        check("a failing scheduled run is tried 3 times in all", len(attempts) == 3, attempts)
        if len(attempts) == 3:
            check("the attempts are recorded: schedule 1, retry 2, retry 3",
                  [(a["trigger"], a["attempt"]) for a in attempts] ==
                  [("schedule", 1), ("retry", 2), ("retry", 3)], attempts)

            def at(a):
                return time.mktime(time.strptime(a["started_at"][:19], "%Y-%m-%dT%H:%M:%S")) + \
                    int(a["started_at"][20:23]) / 1000

            gaps = [at(attempts[1]) - at(attempts[0]), at(attempts[2]) - at(attempts[1])]
            check("the backoff doubles: about 1 s, then 2 s", 0.9 <= gaps[0] < 1.9 and
                  1.9 <= gaps[1] < 3.5, gaps)
            check("a failed run keeps its reason", "payments" in attempts[0]["reason"] or
                  attempts[0]["reason"], attempts[0])
        time.sleep(2.5)
        check("no fourth attempt", len([r for r in runs("payments.payments")
                                        if r["status"] == "failed"]) == 3)

        # An interval: orders republishes every 2 s while the server serves.
        scheduled = wait_for(lambda: len([r for r in runs("orders.orders")
                                          if r["trigger"] == "schedule"]) >= 2, 8)
        check("every: 2s runs orders again and again", scheduled, runs("orders.orders"))
        orders_file = domains / "orders/orders/data/orders.ndjson"
        append(orders_file, "".join(
            json.dumps({"id": 600 + i, "user_id": 1, "order_date": "2018-05-01",
                        "status": "placed"}) + "\n" for i in range(1, 11)))

        def count():
            r = px("query", "--format", "json", "SELECT count(*) AS n FROM orders.orders.orders")
            return json.loads(r.stdout)[0]["n"] if r.returncode == 0 else r.stderr

        n = wait_for(lambda: count() == 610, 8)
        check("a query through the server sees the changed input after a scheduled run", n,
              count())

        # plexus run goes through the server (it holds the data files), then onUpstream.
        payments_file.write_text(good_payments)
        r = px("run", "payments.payments")
        check("plexus run goes through the running server",
              r.returncode == 0 and r.stdout.startswith("ok      payments.payments"),
              r.stdout + r.stderr)
        check("the run by hand is recorded as manual",
              runs("payments.payments")[-1]["trigger"] == "manual", runs("payments.payments"))
        upstream = wait_for(lambda: [r for r in runs("marketing.customer_lifetime_value")
                                     if r["trigger"] == "upstream" and
                                     r["status"] == "succeeded"], 10)
        check("onUpstream runs the consumer after an upstream publishes", upstream,
              runs("marketing.customer_lifetime_value"))
        r = px("query", "--format", "json", "SELECT count(*) AS n FROM "
               "marketing.customer_lifetime_value.customer_lifetime_value")
        check("the consumer's data is served", r.returncode == 0 and
              json.loads(r.stdout)[0]["n"] == 100, r.stdout + r.stderr)

        # Pause and resume: a paused pipeline is not scheduled.
        r = px("pipeline", "pause", "orders.orders", "--reason", "maintenance")
        check("plexus pipeline pause", r.returncode == 0 and "paused" in r.stdout,
              r.stdout + r.stderr)
        time.sleep(0.5)
        before = len(runs("orders.orders"))
        time.sleep(3)
        check("a paused pipeline does not run", len(runs("orders.orders")) == before)
        r = px("pipeline", "resume", "orders.orders")
        check("plexus pipeline resume", r.returncode == 0 and "paused" not in r.stdout,
              r.stdout + r.stderr)
        check("it runs again once resumed",
              wait_for(lambda: len(runs("orders.orders")) > before, 5))

        # Who may run: bob is a member of customers, not of orders.
        bob = px("token", "issue", "bob").stdout.strip()
        status, body = http("POST", url + "/api/v1/runs", bob,
                            json.dumps({"products": ["orders.orders"]}))
        check("a principal outside the domain may not run its product (403)", status == 403,
              (status, body))
        status, body = http("POST", url + "/api/v1/runs", bob,
                            json.dumps({"products": ["customers.customers"]}))
        check("a member of the domain may (200)", status == 200 and
              body["runs"][0]["status"] == "succeeded", (status, body))
        status, body = http("GET", url + "/api/v1/runs?product=orders.orders&limit=3", bob)
        check("GET /api/v1/runs carries trigger and attempt", status == 200 and
              all("trigger" in r and "attempt" in r for r in body.get("runs", [])), body)
        status, body = http("POST", url + "/api/v1/products/orders.orders/inputs/raw_orders/"
                            "events", "not-a-token", '{"op": "c"}\n', "application/x-ndjson")
        check("the push endpoint wants a valid token (401)", status == 401, (status, body))
        admin = None
        server_file = pathlib.Path(home) / "server.json"
        if server_file.exists():
            admin = json.loads(server_file.read_text()).get("admin_token")
        status, body = http("POST", url + "/api/v1/products/orders.orders/inputs/raw_orders/"
                            "events", admin, '{"op": "c"}\n', "application/x-ndjson")
        check("a file input takes no pushes (400)", status == 400, (status, body))
        status, body = http("POST", url + "/api/v1/runs", admin,
                            json.dumps({"products": ["orders.shipments"]}))
        changes = body.get("runs", [{}])[0].get("changes", {}) if status == 200 else {}
        check("a CDC product's run answers what its catch-up applied",
              status == 200 and body["runs"][0]["status"] == "succeeded" and
              set(changes) == {"events", "upserted", "deleted", "stale", "dead_lettered",
                               "compacted"} and
              changes["dead_lettered"] == 0, (status, body))
        quality = body.get("runs", [{}])[0].get("quality", []) if status == 200 else []
        check("a CDC product's catch-up checks its contract's quality rules on the table it "
              "leaves (2 rules, passed)", len(quality) == 2 and
              all(q["status"] == "passed" for q in quality) and
              {q["column"] for q in quality} == {"shipment_id", "status"}, (status, body))
        status, body = http("POST", url + "/api/v1/products/orders.orders/inputs/nope/events",
                            admin, '{"op": "c"}\n', "application/x-ndjson")
        check("an unknown input is 404", status == 404, (status, body))
    finally:
        stop(server)
        if server is not None:
            out = server.stdout.read() if server.stdout else ""
            check("serve logs each scheduled run", "plexus: run orders.orders (schedule)" in out,
                  out[-800:])
        shutil.rmtree(work, ignore_errors=True)


CDC_PIPELINE = """apiVersion: plexus/v1
kind: Pipeline
inputs:
  - name: changes
    cdc:
      source: http
outputs:
  - port: customers
    from: changes
"""


CONTINUOUS_PIPELINE = """apiVersion: plexus/v1
kind: Pipeline
inputs:
  - name: changes
    cdc:
      source: files
      folder: changes
outputs:
  - port: orders
    from: changes
schedule:
  continuous: true
  maxLatency: 200ms
"""


def order_event(key, status="placed"):
    return json.dumps({"op": "c", "before": None, "source": {"lsn": key}, "ts_ms": 1,
                       "after": {"order_id": key, "customer_id": 1, "order_date": "2020-01-01",
                                 "status": status}}) + "\n"


def envelope(op, key, name):
    after = None if op == "d" else {
        "customer_id": key, "first_name": name, "last_name": "L", "email": f"{name}@x.io",
        "country": "NL", "signup_date": "2020-01-01"}
    before = {"customer_id": key} if op == "d" else None
    return json.dumps({"op": op, "before": before, "after": after,
                       "source": {"lsn": key * 10 + (2 if op == "d" else 1)}, "ts_ms": 1})


def push(args):
    work, mesh, home, px_cmd = scratch_mesh(args, "plexus-push-")
    server = None

    def px(*a):
        return subprocess.run(px_cmd + list(a), capture_output=True, text=True, timeout=60)

    try:
        product = pathlib.Path(mesh) / "domains/customers/customers"
        (product / "pipeline.yaml").write_text(CDC_PIPELINE)
        orders = pathlib.Path(mesh) / "domains/orders/orders"
        (orders / "pipeline.yaml").write_text(CONTINUOUS_PIPELINE)
        (orders / "changes").mkdir()
        r = px("apply")
        check("apply a product with an http CDC input", r.returncode == 0, r.stdout + r.stderr)
        alice = px("token", "issue", "alice").stdout.strip()
        carol = px("token", "issue", "carol").stdout.strip()
        check("tokens for alice (customers' owner) and carol (orders')", alice and carol)
        server, url, line = start_server(px_cmd)
        check("serve starts", url is not None, line)
        events = url + "/api/v1/products/customers.customers/inputs/changes/events"
        body = "\n".join([envelope("c", 1, "ann"), envelope("c", 2, "ben"),
                          envelope("d", 2, "ben")]) + "\n"
        status, report = http("POST", events, alice, body, "application/x-ndjson")
        check("the domain's owner pushes: 200 with the apply report", status == 200 and
              report.get("events") == 3 and report.get("deleted") == 1, (status, report))
        status, report = http("POST", events, carol, body, "application/x-ndjson")
        check("another domain's owner may not push (403)", status == 403, (status, report))
        status, report = http("POST", events, "bad-token", body, "application/x-ndjson")
        check("a bad token is refused (401)", status == 401, (status, report))
        status, report = http("POST", url + "/api/v1/products/customers.nope/inputs/changes/"
                              "events", alice, body, "application/x-ndjson")
        check("an unknown product is 404", status == 404, (status, report))
        status, report = http("POST", events, alice,
                              json.dumps([json.loads(envelope("c", 3, "cy"))]))
        check("a JSON array works too", status == 200 and report.get("upserted") == 1,
              (status, report))
        status, report = http("POST", events, alice, "x" * (2 << 20), "application/x-ndjson")
        check("a body over the limit is 413", status == 413, status)
        r = px("query", "--format", "json",
               "SELECT customer_id FROM customers.customers.customers ORDER BY 1")
        check("the pushed changes are served", r.returncode == 0 and
              [row["customer_id"] for row in json.loads(r.stdout)] == [1, 3], r.stdout + r.stderr)
        status, state = http("POST", url + "/api/v1/products/customers.customers/pipeline/pause",
                             alice, json.dumps({"reason": "checking the source"}))
        check("the owner pauses the pipeline", status == 200 and state.get("paused"),
              (status, state))
        status, report = http("POST", events, alice, envelope("c", 4, "di") + "\n",
                              "application/x-ndjson")
        check("a push to a paused pipeline is 409", status == 409, (status, report))
        status, state = http("POST", url + "/api/v1/products/customers.customers/pipeline/resume",
                             alice)
        check("resume", status == 200 and not state.get("paused"), (status, state))
        status, report = http("POST", events, alice, envelope("c", 4, "di") + "\n",
                              "application/x-ndjson")
        check("pushes apply again once resumed", status == 200, (status, report))

        # continuous: a change file is applied by the server's micro-batch loop.
        def orders_count():
            r = px("query", "--format", "json", "SELECT count(*) AS n FROM orders.orders.orders")
            return json.loads(r.stdout)[0]["n"] if r.returncode == 0 else -1

        (orders / "changes/001.ndjson").write_text(order_event(1) + order_event(2))
        check("a continuous CDC product applies a new change file by itself",
              wait_for(lambda: orders_count() == 2, 10), orders_count())
        r = px("runs", "orders.orders", "--format", "json")
        triggers = [run["trigger"] for run in json.loads(r.stdout)] if r.returncode == 0 else r
        check("its micro-batch is recorded as a continuous run", "continuous" in triggers,
              triggers)
        status, state = http("POST", url + "/api/v1/products/orders.orders/pipeline/pause",
                             carol)
        check("orders' owner pauses its stream", status == 200 and state.get("paused") and
              state.get("continuous"), (status, state))
        time.sleep(0.5)
        (orders / "changes/002.ndjson").write_text(order_event(3))
        time.sleep(1.5)
        check("a paused stream is not stepped", orders_count() == 2, orders_count())
        status, state = http("POST", url + "/api/v1/products/orders.orders/pipeline/resume",
                             carol)
        check("resumed, it catches up", status == 200 and
              wait_for(lambda: orders_count() == 3, 10), orders_count())
        r = px("run", "orders.orders", "--full-refresh")
        check("plexus run --full-refresh of a continuous product, through the server",
              r.returncode == 0 and r.stdout.startswith("ok      orders.orders"),
              r.stdout + r.stderr)
        check("the full refresh rebuilt the same table from the change files",
              orders_count() == 3, orders_count())
        (orders / "changes/003.ndjson").write_text(order_event(4))
        check("the stream carries on after it",
              wait_for(lambda: orders_count() == 4, 10), orders_count())
        # backfill through the server: 002 gained an order the stream never read.
        (orders / "changes/002.ndjson").write_text(order_event(3) + order_event(5))
        r = px("backfill", "orders.orders", "--input", "changes", "--from", "002.ndjson")
        check("plexus backfill through the server re-reads from a file",
              r.returncode == 0 and r.stdout.startswith("ok      orders.orders") and
              orders_count() == 5, r.stdout + r.stderr + str(orders_count()))
        r = px("runs", "orders.orders", "--format", "json")
        triggers = [run["trigger"] for run in json.loads(r.stdout)] if r.returncode == 0 else r
        check("the backfill's run is recorded as such", "backfill" in triggers, triggers)
        # A batch over the error rate pauses the stream; once the file is fixed and the stream
        # resumed, that batch is read again (nothing of it was applied, nothing is skipped).
        (orders / "changes/004.ndjson").write_text(order_event(6) + '{"op": "x"}\n')

        def stream_state():
            return http("GET", url + "/api/v1/products/orders.orders/pipeline", carol)[1]

        check("a batch of bad events pauses the continuous stream",
              wait_for(lambda: stream_state().get("paused"), 10) and orders_count() == 5,
              (stream_state(), orders_count()))
        (orders / "changes/004.ndjson").write_text(order_event(6) + order_event(7))
        status, state = http("POST", url + "/api/v1/products/orders.orders/pipeline/resume",
                             carol)
        check("resumed after the fix, the paused batch is applied, not skipped",
              status == 200 and wait_for(lambda: orders_count() == 7, 10), orders_count())
        r = px("runs", "customers.customers", "--format", "json")
        triggers = [run["trigger"] for run in json.loads(r.stdout)] if r.returncode == 0 else r
        check("pushes are recorded as push runs", "push" in triggers, triggers)
        status, body = http("POST", url + "/api/v1/products/customers.customers/inputs/changes/"
                            "backfill", alice, json.dumps({"from": "x"}))
        check("an http input cannot be backfilled (409, push the events again)",
              status == 409 and "push them again" in json.dumps(body), (status, body))
    finally:
        stop(server)
        shutil.rmtree(work, ignore_errors=True)


def main():
    args = mesh_args()
    try:
        scheduling(args)
        push(args)
    finally:
        sys.exit(summary())


if __name__ == "__main__":
    main()
