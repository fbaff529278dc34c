#!/usr/bin/env python3
"""Issue 9's metrics acceptance, end to end: the example mesh applied and run, `plexus serve`
started, /metrics scraped with a mesh admin's token. For every product port, the last processor
step's rows out (the port's rows when it has no steps) equals `SELECT count(*)` of its table
through `plexus query`, and so does the port's rows out. No token: 401; a consumer's token:
403; a member of the group `monitoring`: 200. `plexus metrics` shows the same figures, and a
product's metrics answer over HTTP with visibility like the other product routes.
"""
import json
import pathlib
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
from checks import check, mesh_args, scratch_mesh, shown_token, stop, summary  # noqa: E402

SAMPLE = re.compile(r'^(plexus_[a-z_]+)\{(.*)\} (\S+)$')
LABEL = re.compile(r'([a-z_]+)="((?:[^"\\]|\\.)*)"')


def get(base, path, token):
    req = urllib.request.Request(base + path)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            return res.status, res.headers.get("Content-Type", ""), res.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


def samples(text):
    out = []
    for line in text.splitlines():
        match = SAMPLE.match(line)
        if match:
            out.append((match.group(1), dict(LABEL.findall(match.group(2))),
                        float(match.group(3))))
    return out


def start_server(cmd):
    server = subprocess.Popen(cmd + ["serve", "--port", "0", "--no-pg"], stdout=subprocess.PIPE,
                              text=True)
    line = server.stdout.readline()
    match = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
    return server, (match.group(1) if match else None), line


def table_count(px, table):
    out = px("query", f"SELECT count(*) AS n FROM {table}", "--format", "json")
    rows = json.loads(out.stdout) if out.returncode == 0 else None
    return rows[0]["n"] if rows else None, out


def check_scrape(px, base, admin):
    status, ctype, text = get(base, "/metrics", admin)
    check("/metrics answers a mesh admin in the Prometheus text format 0.0.4",
          status == 200 and ctype.startswith("text/plain") and "version=0.0.4" in ctype, ctype)
    check("each family has HELP and TYPE",
          "# TYPE plexus_processor_rows_out_total counter" in text and
          "# HELP plexus_runs_total" in text and "# TYPE plexus_processor_last_rows_out gauge"
          in text, text[:500])
    found = samples(text)
    ports = {}  # (domain, product, port) -> rows out
    steps = {}  # (domain, product, port) -> (position, rows out of the last step)
    for name, labels, value in found:
        key = (labels.get("domain"), labels.get("product"), labels.get("port"))
        if name == "plexus_port_last_rows_out":
            ports[key] = value
        if name == "plexus_processor_last_rows_out":
            position = int(labels["position"])
            if key not in steps or steps[key][0] < position:
                steps[key] = (position, value)
    check("every product port of the example has figures (5)", len(ports) == 5, sorted(ports))
    check("the payments chain reports its 4 steps", steps.get(
        ("payments", "payments", "payments"), (0, 0))[0] == 3, steps)
    for (domain, product, port), rows in sorted(ports.items()):
        counted, out = table_count(px, f"{domain}.{product}.{port}")
        last = steps.get((domain, product, port), (None, rows))[1]
        if (domain, product) == ("orders", "shipments"):
            # A CDC port counts rows upserted or deleted: the example's change stream also
            # inserts and deletes a voided label in the one catch-up (one delete).
            counted = None if counted is None else counted + 1
        check(f"{domain}.{product}.{port}: the last step's rows out ({last:.0f}) and the port's "
              f"equal count(*) of its table ({counted})",
              counted is not None and last == counted == rows, out.stderr)
    runs = [v for n, labels, v in found if n == "plexus_runs_total" and
            labels.get("status") == "succeeded"]
    check("runs by status: 5 succeeded", sum(runs) == 5, runs)


def check_doors(px, base):
    status, _, body = get(base, "/metrics", None)
    check("/metrics without a token: 401", status == 401, body[:200])
    created = px("principal", "create", "nora", "--token")
    nora = shown_token(created.stdout)
    status, _, body = get(base, "/metrics", nora)
    check("/metrics with a consumer's token: 403", nora and status == 403, body[:200])
    created = px("principal", "create", "prometheus", "--token")
    scraper = shown_token(created.stdout)
    grouped = px("group", "add", "monitoring", "prometheus")
    status, _, body = get(base, "/metrics", scraper)
    check("/metrics for the group monitoring: 200", grouped.returncode == 0 and status == 200,
          grouped.stderr + body[:200])
    status, _, body = get(base, "/api/v1/products/payments.payments/metrics", nora)
    answer = json.loads(body) if status == 200 else {}
    check("a product's metrics: the last run's port and its steps (a public port)",
          status == 200 and answer["ports"][0]["port"] == "payments" and
          [s["processor"] for s in answer["ports"][0]["steps"]] ==
          ["rename", "cast", "cents_to_units", "project"], body[:300])


def main():
    args = mesh_args()
    work, mesh, home, cmd = scratch_mesh(args, "plexus-metrics-")
    server = None

    def px(*argv, token=None):
        return subprocess.run(cmd + (["--token", token] if token else []) + list(argv),
                              capture_output=True, text=True, timeout=120)

    try:
        none = px("apply")
        check("the example mesh applies", none.returncode == 0, none.stderr)
        before = px("metrics", "payments.payments")
        check("plexus metrics before any run says so",
              before.returncode == 0 and "no run has recorded metrics yet" in before.stdout,
              before.stdout + before.stderr)
        ran = px("run", "--all")
        check("plexus run builds every product", ran.returncode == 0, ran.stderr)
        shown = px("metrics", "payments.payments", "--format", "json")
        body = json.loads(shown.stdout) if shown.returncode == 0 else {}
        port = (body.get("ports") or [{}])[0]
        check("plexus metrics --format json: rows in and out per port and step",
              port.get("rows_out", 0) > 0 and len(port.get("steps", [])) == 4 and
              all(s["rows_in"] == s["rows_out"] == port["rows_out"] for s in port["steps"]) and
              port.get("bytes_in", 0) > 0 and body.get("history"), shown.stdout[:500])
        table = px("metrics", "payments.payments")
        check("plexus metrics prints the run per port and step", table.returncode == 0 and
              "cents_to_units" in table.stdout and "ROWS OUT" in table.stdout, table.stdout)
        server, base, line = start_server(cmd)
        check("plexus serve starts", base is not None, line)
        if base is None:
            return
        admin = px("token", "issue").stdout.strip()
        check_scrape(px, base, admin)
        check_doors(px, base)
    finally:
        stop(server)
        shutil.rmtree(work, ignore_errors=True)
        sys.exit(summary())


if __name__ == "__main__":
    main()
