#!/usr/bin/env python3
"""Alerts through the CLI and the HTTP API, and who sees them.

The example mesh with payments made private; the runs of orders and payments fail (their seed
files removed), which fires one pipeline_failure alert each (`plexus run` reconciles its runs'
alerts). A mesh admin sees both, an outsider only the public product's (a private product's
alert is left out, and ?product= of it is 404 like every product route), over the CLI and over
GET /api/v1/alerts of a real `plexus serve`. Fixing the files and running again resolves both,
once. Bad input: --status and ?status= outside firing|resolved|all are refused.
"""
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
from checks import (check, make_private, mesh_args, scratch_mesh, shown_token, stop,  # noqa: E402
                    summary)

SEEDS = {"orders": "data/orders.ndjson", "payments": "data/payments.json"}


def get_json(base, path, token):
    request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def products_of(alerts):
    return sorted(a["product"] for a in alerts)


def check_cli(px, token):
    admin = px("alerts", "--status", "firing", "--format", "json")
    alerts = json.loads(admin.stdout or "{}").get("alerts", [])
    check("the admin sees both firing pipeline alerts",
          products_of(alerts) == ["orders.orders", "payments.payments"]
          and all(a["kind"] == "pipeline_failure" and a["status"] == "firing" for a in alerts),
          admin.stdout + admin.stderr)
    outsider = px("alerts", "--format", "json", token=token)
    seen = json.loads(outsider.stdout or "{}").get("alerts", [])
    check("an outsider sees only the public product's alert",
          products_of(seen) == ["orders.orders"], outsider.stdout + outsider.stderr)
    table = px("alerts")
    check("the table shows each alert's kind and entity",
          table.returncode == 0 and "pipeline_failure" in table.stdout
          and "payments.payments" in table.stdout, table.stdout + table.stderr)
    bad = px("alerts", "--status", "open")
    check("--status outside firing|resolved|all is refused",
          bad.returncode == 1 and "firing, resolved or all" in bad.stderr, bad.stderr)


def check_http(cmd, admin_token, outsider_token):
    server = subprocess.Popen(cmd + ["serve", "--port", "0", "--no-pg"], stdout=subprocess.PIPE,
                              text=True)
    try:
        line = server.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
        check("serve prints its HTTP address", match is not None, line)
        if not match:
            return
        base = match.group(1)
        status, body = get_json(base, "/api/v1/alerts?status=firing", admin_token)
        check("GET /api/v1/alerts: the admin sees both",
              status == 200 and products_of(body.get("alerts", []))
              == ["orders.orders", "payments.payments"], body)
        status, body = get_json(base, "/api/v1/alerts?status=firing", outsider_token)
        check("GET /api/v1/alerts: an outsider sees only the public one",
              status == 200 and products_of(body.get("alerts", [])) == ["orders.orders"], body)
        status, body = get_json(base, "/api/v1/alerts?product=payments.payments", outsider_token)
        check("?product= of a private product is 404 to an outsider", status == 404, body)
        status, body = get_json(base, "/api/v1/alerts?status=open", admin_token)
        check("?status= outside firing|resolved|all is 400", status == 400, body)
        status, body = get_json(base, "/api/v1/alerts", "not-a-token")
        check("no valid token: 401", status == 401, body)
    finally:
        stop(server)


def main():
    args = mesh_args()
    work, mesh, home, cmd = scratch_mesh(args, "plexus-alerts-")
    try:
        def px(*argv, token=None):
            full = cmd + (["--token", token] if token else []) + list(argv)
            return subprocess.run(full, capture_output=True, text=True)

        make_private(mesh, "payments")
        applied = px("apply")
        check("the example mesh applies", applied.returncode == 0, applied.stderr)
        kept = {}
        for product, seed in SEEDS.items():
            path = pathlib.Path(mesh) / "domains" / product / product / seed
            kept[product] = path.read_bytes()
            path.unlink()
        failed = px("run", "orders.orders", "payments.payments")
        check("runs without their seed files fail", failed.returncode != 0,
              failed.stdout + failed.stderr)
        created = px("principal", "create", "nora", "--token")
        outsider = shown_token(created.stdout)
        check("an outsider with a token", created.returncode == 0 and outsider, created.stderr)
        admin = px("token", "issue", "admin").stdout.strip()
        check_cli(px, outsider)
        check_http(cmd, admin, outsider)
        for product, seed in SEEDS.items():
            (pathlib.Path(mesh) / "domains" / product / product / seed).write_bytes(kept[product])
        fixed = px("run", "orders.orders", "payments.payments")
        check("the runs succeed again", fixed.returncode == 0, fixed.stdout + fixed.stderr)
        after = json.loads(px("alerts", "--format", "json").stdout or "{}").get("alerts", [])
        check("each alert resolved once, none firing",
              len(after) == 2 and all(a["status"] == "resolved" and a["resolved_at"]
                                      for a in after), after)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        sys.exit(summary())


if __name__ == "__main__":
    main()
