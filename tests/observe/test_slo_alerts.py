#!/usr/bin/env python3
"""Issue 9's trust acceptance, end to end on a real `plexus serve`.

A CDC product (sales.orders, fed by an http input) promises a latency of 4 s in its contract.
The test is its source: it pushes change events every half second, so the product is fresh.
Then the source stops: within one evaluation period after the objective passes, the latency SLO
is breached, the trust score drops, and exactly one alert reaches the webhook; the source
resumes: the SLO is met again and exactly one resolved notification follows. The runs'
OpenLineage events reach the configured endpoint (START then COMPLETE, one runId) and the file
transport. /metrics shows the rows the pushes applied.
"""
import argparse
import http.server
import json
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "support"))
sys.path.insert(0, str(HERE.parent / "cdc"))
from checks import check, summary  # noqa: E402
from cdc_support import contract, plexus_cli, write_mesh  # noqa: E402

OBJECTIVE_S = 4
INTERVAL_S = 1


class Receiver(http.server.BaseHTTPRequestHandler):
    """Keeps every POSTed JSON body by path."""
    received = {}
    lock = threading.Lock()

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with Receiver.lock:
            Receiver.received.setdefault(self.path, []).append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def posted(path):
    with Receiver.lock:
        return list(Receiver.received.get(path, []))


def call(method, url, token, body=None, content_type="application/json", raw=False):
    req = urllib.request.Request(url, data=body.encode() if body else None, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if body:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            text = res.read()
            return res.status, (text.decode() if raw else json.loads(text or b"null"))
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def wait_for(condition, seconds):
    deadline = time.time() + seconds
    while True:
        value = condition()
        if value or time.time() > deadline:
            return value
        time.sleep(0.2)


def event(key, amount):
    return json.dumps({"op": "c", "before": None,
                       "after": {"id": key, "customer": f"c{key}", "amount": amount},
                       "source": {"lsn": key}, "ts_ms": int(time.time() * 1000)})


class Source:
    """Pushes one change event every half second until stopped, as the operational system."""

    def __init__(self, url, token):
        self.url, self.token, self.key = url, token, 0
        self.running = threading.Event()
        self.failures = []
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while True:
            self.running.wait()
            self.key += 1
            status, body = call("POST", self.url, self.token, event(self.key, self.key * 10) + "\n",
                                "application/x-ndjson")
            if status != 200:
                self.failures.append((status, body))
            time.sleep(0.5)


def latency(url, token):
    status, body = call("GET", url + "/api/v1/products/sales.orders/slo", token)
    if status != 200:
        return None
    for slo in body.get("current", body.get("slos", [])) if isinstance(body, dict) else body:
        if slo.get("property") == "latency":
            return slo
    return None


def trust(url, token):
    status, body = call("GET", url + "/api/v1/products/sales.orders/trust", token)
    return body.get("score") if status == 200 and isinstance(body, dict) else None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--plexus", required=True)
    args = parser.parse_args()
    work = pathlib.Path(tempfile.mkdtemp(prefix="plexus-slo-"))
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hooks = f"http://127.0.0.1:{receiver.server_address[1]}"
    server = None
    try:
        mesh, home = work / "mesh", work / "home"
        columns = [("id", "BIGINT", "integer", True), ("customer", "VARCHAR", "string", False),
                   ("amount", "BIGINT", "integer", False)]
        text = contract("orders-contract", "1.0.0", columns, "Orders as the shop sees them.")
        text += f"slaProperties:\n  - property: latency\n    value: {OBJECTIVE_S}\n    unit: s\n"
        write_mesh(mesh, mesh_name="shop", description="A shop.", product_id="orders",
                   purpose="Orders as they happen.", contract_id="orders-contract",
                   contract_text=text, cdc="      source: http\n")
        with open(mesh / "mesh.yaml", "a") as f:
            f.write(f"observability:\n  sloInterval: {INTERVAL_S}s\n"
                    f"  openlineage:\n    url: {hooks}/lineage\n    file: lineage.ndjson\n"
                    f"  alerts:\n    webhook: {hooks}/alerts\n")
        px = plexus_cli(args.plexus, mesh, home)
        r = px("apply")
        check("apply a CDC product with a latency objective and observability settings",
              r.returncode == 0, r.stdout + r.stderr)
        server = subprocess.Popen([args.plexus, "--mesh", str(mesh), "--home", str(home), "serve",
                                   "--port", "0", "--no-pg", "--governance-interval", "0"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = server.stdout.readline()
        found = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
        check("serve starts", found is not None, line)
        url = found.group(1)
        token = json.loads((home / "server.json").read_text())["admin_token"]
        source = Source(url + "/api/v1/products/sales.orders/inputs/changes/events", token)

        source.running.set()
        met = wait_for(lambda: (latency(url, token) or {}).get("status") == "met", 20)
        check("while the source sends, the latency SLO is met", met, latency(url, token))
        time.sleep(3 * INTERVAL_S)
        fresh_trust = trust(url, token)
        check("the product has a trust score", isinstance(fresh_trust, (int, float)), fresh_trust)
        check("no alert while it is fresh", not posted("/alerts"), posted("/alerts"))

        source.running.clear()
        stopped = time.time()
        breached = wait_for(lambda: (latency(url, token) or {}).get("status") == "breached",
                            OBJECTIVE_S + 10 * INTERVAL_S)
        took = time.time() - stopped
        check("the source stopped: the latency SLO is breached", breached, latency(url, token))
        check(f"within one evaluation period after the objective ({took:.1f} s)",
              took <= OBJECTIVE_S + INTERVAL_S + 2.5, took)
        time.sleep(3 * INTERVAL_S)  # several evaluations while breached
        stale_trust = trust(url, token)
        check("the trust score drops", isinstance(stale_trust, (int, float)) and
              isinstance(fresh_trust, (int, float)) and stale_trust < fresh_trust,
              (fresh_trust, stale_trust))
        alerts = [a for a in posted("/alerts") if a.get("kind") == "slo_breach"]
        check("exactly one alert fired, for the latency objective", len(alerts) == 1 and
              alerts[0].get("status") == "firing" and "latency" in alerts[0].get("entity", ""),
              posted("/alerts"))

        source.running.set()
        met = wait_for(lambda: (latency(url, token) or {}).get("status") == "met", 20)
        check("the source resumed: the SLO is met again", met, latency(url, token))
        resolved = wait_for(lambda: [a for a in posted("/alerts") if
                                     a.get("kind") == "slo_breach" and
                                     a.get("status") == "resolved"], 10)
        time.sleep(3 * INTERVAL_S)
        alerts = [a for a in posted("/alerts") if a.get("kind") == "slo_breach"]
        check("exactly one resolved notification follows", resolved and len(alerts) == 2 and
              alerts[1].get("status") == "resolved", alerts)
        source.running.clear()
        check("every push was accepted", not source.failures, source.failures[:3])

        events = posted("/lineage")
        by_run = {}
        for e in events:
            by_run.setdefault(e.get("run", {}).get("runId"), []).append(e.get("eventType"))
        check("OpenLineage: START then COMPLETE for each run, one runId each",
              by_run and all(types[:1] == ["START"] and "COMPLETE" in types
                             for types in by_run.values()), list(by_run.values())[:5])
        outputs = [o.get("name") for e in events for o in e.get("outputs", [])]
        check("OpenLineage: the run's output dataset is the port", any("orders" in (n or "")
                                                                       for n in outputs), outputs)
        files = list(home.rglob("lineage.ndjson"))
        lines = files[0].read_text().splitlines() if files else []
        check("OpenLineage: the file transport has the same events", len(lines) >= len(events),
              (files, len(lines), len(events)))

        status, text = call("GET", url + "/metrics", token, raw=True)
        rows = json.loads(px("query", "--format", "json",
                             "SELECT count(*) AS n FROM sales.orders.orders").stdout)[0]["n"]
        applied = sum(float(m.group(1)) for m in re.finditer(
            r'^plexus_port_rows_out_total\{[^}]*product="[^"]*orders"[^}]*\} (\S+)$', text or "",
            re.M))
        check("/metrics counts the rows the pushes applied", status == 200 and applied == rows,
              (status, applied, rows, [l for l in (text or "").splitlines()
                                       if l.startswith("plexus_port_rows_out_total")]))
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        receiver.shutdown()
        shutil.rmtree(work, ignore_errors=True)
        sys.exit(summary())


if __name__ == "__main__":
    main()
