#!/usr/bin/env python3
"""SLOs, trust scores and quality history (issue 9), end to end on the example mesh.

The example is applied (marketing's port made private) and run. `plexus slo` evaluates on the
spot: every port's objectives with status, observed figure and objective, and a trust score per
product; `--format json` and `--history` say the same; `plexus show` prints the score, the
objectives and the quality trend; `plexus search` carries the computed score. Then `plexus
serve`: the product routes /slo, /trust and /quality/history answer a consumer for a public
product, are 404 to them for the private one (as if it did not exist) and 200 to a member of its
domain; no token is 401; a bad ?since= is 400; the product's JSON carries `trust`.
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

MARKETING = "domains/marketing/customer_lifetime_value/contracts/customer_lifetime_value.odcs.yaml"


def make_marketing_private(mesh):
    """marketing.customer_lifetime_value (which nothing reads) private: only its domain (grace,
    heidi) knows it exists."""
    path = pathlib.Path(mesh) / MARKETING
    text = path.read_text()
    path.write_text(text.replace("tags: [jaffle-shop, marketing]\n", "tags: [jaffle-shop, "
                                 "marketing]\ncustomProperties:\n  - property: visibility\n"
                                 "    value: private\n", 1))

ROUTES = ["slo", "trust", "quality/history"]


def get(base, path, token):
    req = urllib.request.Request(base + path)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            return res.status, json.loads(res.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def start_server(cmd):
    server = subprocess.Popen(cmd + ["serve", "--port", "0", "--no-pg"], stdout=subprocess.PIPE,
                              text=True)
    line = server.stdout.readline()
    match = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
    return server, (match.group(1) if match else None), line


def check_cli(px):
    listed = px("slo", "--format", "json")
    body = json.loads(listed.stdout) if listed.returncode == 0 else {}
    slos = {(s["product"], s["port"], s["property"]): s for s in body.get("slos", [])}
    latency = slos.get(("customers.customers", "customers", "latency"), {})
    check("plexus slo evaluates now: a fresh port's latency of 1 d is met",
          body.get("evaluated_now") and latency.get("status") == "met" and
          latency.get("objective") == "1 d" and latency.get("objective_value") == 86400 and
          latency.get("observed") is not None and latency.get("detail"), listed.stdout[:600])
    retention = slos.get(("customers.customers", "customers", "retention"), {})
    check("a retention without a date column (element) is unknown, and says why",
          retention.get("status") == "unknown" and "element" in retention.get("detail", ""),
          retention)
    trust = {t["product"]: t for t in body.get("trust", [])}
    check("a trust score per product it may see (marketing is private), 0 to 100, five parts",
          len(trust) == 4 and "marketing.customer_lifetime_value" not in trust and all(0 <= t["score"] <= 100 and set(t["parts"]) ==
                                  {"slo", "quality", "stability", "documentation", "consumers"}
                                  for t in trust.values()), body.get("trust"))
    table = px("slo", "customers.customers")
    check("plexus slo PRODUCT prints its objectives and its trust score",
          table.returncode == 0 and "latency" in table.stdout and "met" in table.stdout and
          "TRUST" in table.stdout and "payments" not in table.stdout, table.stdout)
    history = px("slo", "customers.customers", "--history")
    check("plexus slo --history prints the status changes and the trust history",
          history.returncode == 0 and "history" in history.stdout and
          "-> met" in history.stdout and " trust " in history.stdout, history.stdout[-800:])
    unknown = px("slo", "sales.nothing")
    check("an unknown product is a clear error", unknown.returncode == 1 and
          "unknown data product" in unknown.stderr, unknown.stderr)
    shown = px("show", "customers.customers")
    check("plexus show prints the trust score, the objectives and the quality trend",
          shown.returncode == 0 and "trust:" in shown.stdout and
          "service-level objectives" in shown.stdout and "quality trend" in shown.stdout,
          shown.stdout[-1500:])
    found = px("search", "customers")
    score = trust.get("customers.customers", {}).get("score")
    check("plexus search shows the computed trust score",
          found.returncode == 0 and score is not None and
          f"trust {int(score + 0.5)}," in found.stdout, found.stdout[:400])


def check_routes(px, base, member):
    created = px("principal", "create", "nora", "--token")
    nora = shown_token(created.stdout)
    check("a consumer exists", bool(nora), created.stdout + created.stderr)
    status, body = get(base, "/api/v1/products/customers.customers/slo", nora)
    check("GET /slo of a public product answers a consumer with its objectives",
          status == 200 and any(s["property"] == "latency" and s["status"] == "met"
                                for s in body["slos"]) and body["history"], body)
    status, body = get(base, "/api/v1/products/customers.customers/trust", nora)
    check("GET /trust: the score, its parts, the weights and the history",
          status == 200 and isinstance(body["score"], (int, float)) and
          abs(sum(body["weights"].values()) - 1) < 1e-9 and body["history"], body)
    status, body = get(base, "/api/v1/products/customers.customers/quality/history", nora)
    check("GET /quality/history: each rule's checks with their time and figure",
          status == 200 and body["rules"] and
          all(r["checks"] and r["checks"][0]["checked_at"] for r in body["rules"]), body)
    for route in ROUTES:
        status, body = get(base, f"/api/v1/products/marketing.customer_lifetime_value/{route}", nora)
        check(f"GET /{route} of a private product is 404 to an outsider",
              status == 404 and "customer_lifetime_value" in body, (status, body))
        status, _ = get(base, f"/api/v1/products/marketing.customer_lifetime_value/{route}", member)
        check(f"GET /{route} of the private product answers a member of its domain",
              status == 200, status)
        status, _ = get(base, f"/api/v1/products/customers.customers/{route}", None)
        check(f"GET /{route} without a token is 401", status == 401, status)
    status, body = get(base, "/api/v1/products/customers.customers/slo?since=yesterday", nora)
    check("a bad ?since= is 400", status == 400 and "since" in body, (status, body))
    status, body = get(base, "/api/v1/products/customers.customers", nora)
    check("the product's JSON carries its trust score",
          status == 200 and isinstance(body.get("trust"), dict) and
          "parts" in body["trust"], body.get("trust") if isinstance(body, dict) else body)


def main():
    args = mesh_args()
    work, mesh, home, cmd = scratch_mesh(args, "plexus-slo-")
    make_marketing_private(mesh)
    server = None

    def px(*argv, token=None):
        return subprocess.run(cmd + (["--token", token] if token else []) + list(argv),
                              capture_output=True, text=True, timeout=120)

    try:
        applied = px("apply")
        check("the example mesh applies", applied.returncode == 0, applied.stderr)
        never = px("slo", "--no-evaluate")
        check("before any evaluation, plexus slo --no-evaluate says so",
              never.returncode == 0 and "no SLO evaluated yet" in never.stdout, never.stdout)
        ran = px("run", "--all")
        check("plexus run builds every product", ran.returncode == 0, ran.stderr)
        check_cli(px)
        server, base, line = start_server(cmd)
        check("plexus serve starts", base is not None, line)
        if base is None:
            return
        grace = px("token", "issue", "grace").stdout.strip()  # owner of marketing
        check_routes(px, base, grace)
    finally:
        stop(server)
        shutil.rmtree(work, ignore_errors=True)
        sys.exit(summary())


if __name__ == "__main__":
    main()
