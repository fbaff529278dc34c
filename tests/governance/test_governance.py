#!/usr/bin/env python3
"""Federated computational governance, end to end, on copies of the example mesh.

- acceptance: the example mesh passes the built-in pack (apply prints no violation, governance
  check exits 0, the report gives every domain 100); a deliberately non-compliant product is
  refused at apply with each violated policy named, and nothing of it is applied; governance
  check says the same and exits 1 (for a domain's CI);
- governance report --format json gives per-domain scores, a trend, and the violations; an
  exemption makes a violation disappear until its expiry and come back after it;
- federation: a domain parameter outside the range the mesh allows is refused with the range,
  file and line; one inside it applies to that domain only; an exemption of a policy marked not
  exemptible is refused; a domain policy may not take a global policy's id;
- bad policy SQL (not parsing, reading outside the catalog views, the wrong shape) is refused at
  load with the policy's id, by validate and by apply;
- quarantine: a policy that quarantines keeps a product from consumers outside its domain
  (with the reason) while its owners and admins still read it;
- over HTTP: the report as JSON and HTML, the policies, the evaluations kept by serve's
  schedule; a principal outside every domain sees the scores but no violation.
"""
import datetime
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
from checks import check, mesh_args, scratch_mesh, shown_token, stop, summary  # noqa: E402

POLICY_IDS = ["columns-classified", "cross-domain-grant", "freshness-sla", "no-deprecated-input",
              "owner-team", "port-contract", "primary-key-quality", "purpose",
              "semantic-versions", "sensitive-masked", "snake-case"]

# sales.leads: no team, a purpose of three letters, a column with no classification, one whose
# name is not snake_case, no SLA, a version that is not semantic, a key nobody checks.
LEADS = {
    "domains/sales/domain.yaml": """apiVersion: plexus/v1
kind: Domain
name: sales
description: Selling to new customers.
owners: [sam]
members: [sam]
""",
    "domains/sales/leads/product.odps.yaml": """apiVersion: v1.0.0
kind: DataProduct
id: 4e1c2b8a-1f3d-4c5e-9a7b-0d2e4f6a8b10
name: leads
version: "1.0"
status: active
domain: sales
description:
  purpose: tbd
outputPorts:
  - name: leads
    type: tables
    version: 1.0.0
    contractId: 7c3a9e21-5b4d-4f60-8e1a-2c3d4e5f6a70
""",
    "domains/sales/leads/contracts/leads.odcs.yaml": """apiVersion: v3.1.0
kind: DataContract
id: 7c3a9e21-5b4d-4f60-8e1a-2c3d4e5f6a70
name: leads
version: 1.0.0
status: active
domain: sales
dataProduct: leads
schema:
  - name: leads
    physicalType: table
    properties:
      - name: lead_id
        logicalType: integer
        physicalType: BIGINT
        required: true
        primaryKey: true
        classification: internal
      - name: score_
        logicalType: integer
        physicalType: BIGINT
""",
}
LEADS_VIOLATES = ["owner-team", "purpose", "columns-classified", "snake-case", "freshness-sla",
                  "semantic-versions", "primary-key-quality"]

# The same product made to pass the block policies (a team, a semantic version): its warnings
# remain (a short purpose among them).
TEAM = """team:
  name: Sales ops
  members:
    - username: sam
      role: owner
"""


def write(mesh, files):
    for rel, text in files.items():
        path = pathlib.Path(mesh) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def add_to_mesh_yaml(mesh, text):
    path = pathlib.Path(mesh) / "mesh.yaml"
    path.write_text(path.read_text() + text)


def set_policy_files(mesh, files):
    """mesh.yaml's `policies:` list set to `files`."""
    path = pathlib.Path(mesh) / "mesh.yaml"
    path.write_text(re.sub(r"^policies: .*$", f"policies: {json.dumps(files)}",
                           path.read_text(), count=1, flags=re.M))


def iso_in(seconds):
    at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def report_json(px):
    answer = px("governance", "report", "--format", "json")
    try:
        return json.loads(answer.stdout), answer
    except ValueError:
        return None, answer


def violations_of(report, policy=None, entity=None):
    return [v for v in (report or {}).get("violations", [])
            if (policy is None or v["policy"] == policy) and
            (entity is None or v["entity"].startswith(entity))]


def check_example_passes(px):
    applied = px("apply")
    check("the example mesh applies", applied.returncode == 0, applied.stderr)
    named = [p for p in POLICY_IDS if p in applied.stderr]
    check("the example mesh passes the built-in pack: apply names no policy", not named,
          applied.stderr)
    checked = px("governance", "check")
    check("governance check on the example mesh: exit 0, no violation",
          checked.returncode == 0 and "ok: no violations" in checked.stdout,
          checked.stdout + checked.stderr)
    report, answer = report_json(px)
    check("governance report --format json answers JSON", report is not None,
          answer.stdout + answer.stderr)
    if report is None:
        return
    domains = {d["domain"]: d for d in report["domains"]}
    check("the report scores every domain: 100 each",
          set(domains) == {"customers", "orders", "payments", "marketing"} and
          all(d["score"] == 100 for d in domains.values()), domains)
    check("the report lists the 11 built-in policies, each at 100",
          sorted(p["id"] for p in report["policies"]) == POLICY_IDS and
          all(p.get("score") == 100 for p in report["policies"]), report["policies"])
    check("the report keeps a trend (the apply's evaluation before this one)",
          len(report["trend"]) >= 1 and report["trend"][0]["trigger"] == "apply", report["trend"])
    listed = px("governance", "policies")
    check("governance policies lists each policy with its parameters",
          all(p in listed.stdout for p in POLICY_IDS) and "$min_length = 20" in listed.stdout,
          listed.stdout + listed.stderr)


def check_views_documented(px):
    answer = px("governance", "views", "--format", "json")
    views = json.loads(answer.stdout) if answer.returncode == 0 else []
    doc = (pathlib.Path(__file__).resolve().parents[2] / "docs" / "governance.md").read_text()
    missing = [f"{v['name']}.{c['name']}" for v in views for c in v["columns"]
               if f"### `{v['name']}`" not in doc or f"| {c['name']} | {c['type']} |" not in doc]
    check("governance views lists the catalog views, each documented in docs/governance.md",
          len(views) >= 20 and not missing, missing or answer.stderr)


def check_non_compliant(px, mesh):
    write(mesh, LEADS)
    applied = px("apply")
    check("a non-compliant product is refused at apply (exit 1, nothing applied)",
          applied.returncode == 1 and "nothing was applied" in applied.stderr, applied.stderr)
    missing = [p for p in LEADS_VIOLATES if p not in applied.stderr]
    check("the refusal names each violated policy", not missing, f"missing {missing}: " +
          applied.stderr)
    check("block violations are marked refused, the others warnings",
          re.search(r"refused: owner-team \(block\): sales\.leads", applied.stderr) and
          re.search(r"refused: semantic-versions \(block\): sales\.leads", applied.stderr) and
          re.search(r"warning: purpose \(warn\): sales\.leads", applied.stderr), applied.stderr)
    products = px("products")
    check("nothing of the refused product was applied", "sales.leads" not in products.stdout,
          products.stdout)
    checked = px("governance", "check")
    check("governance check: exit 1 on block violations, each named",
          checked.returncode == 1 and all(p in checked.stdout for p in LEADS_VIOLATES),
          checked.stdout + checked.stderr)
    as_json = px("governance", "check", "--format", "json")
    try:
        body = json.loads(as_json.stdout)
    except ValueError:
        body = {}
    check("governance check --format json: ok false, the blocking violations listed",
          as_json.returncode == 1 and body.get("ok") is False and
          {v["policy"] for v in body.get("violations", [])} >= set(LEADS_VIOLATES),
          as_json.stdout[:500])
    # Fix the block violations: a team and a semantic version. The warnings remain.
    product = pathlib.Path(mesh) / "domains/sales/leads/product.odps.yaml"
    product.write_text(product.read_text().replace('version: "1.0"', "version: 1.0.0") + TEAM)
    applied = px("apply")
    check("with a team and a semantic version it applies, with its warnings printed",
          applied.returncode == 0 and "warning: purpose (warn): sales.leads" in applied.stderr,
          applied.stderr)
    shown = px("show", "sales.leads")
    check("plexus show lists the product's violations from the newest evaluation",
          shown.returncode == 0 and re.search(r"governance \(evaluated .*\)", shown.stdout) and
          re.search(r"warn +purpose +sales\.leads: ", shown.stdout) and
          "sales.leads.leads.score_" in shown.stdout, shown.stdout + shown.stderr)


def check_exemption(px, mesh):
    report, _ = report_json(px)
    before = {d["domain"]: d["score"] for d in (report or {}).get("domains", [])}
    check("the purpose violation counts before any exemption",
          violations_of(report, "purpose", "sales.leads") and
          "exemption" not in violations_of(report, "purpose", "sales.leads")[0] and
          before.get("sales", 100) < 100, report and report.get("domains"))
    expires = iso_in(6)
    write(mesh, {"governance/exemptions.yaml": f"""apiVersion: plexus/v1
kind: Policies
exemptions:
  - policy: purpose
    entity: sales.leads
    justification: The product is being rewritten; its purpose comes with it.
    approvedBy: governance-board
    expires: {expires}
"""})
    set_policy_files(mesh, ["governance/exemptions.yaml"])
    applied = px("apply")
    check("an exemption applies", applied.returncode == 0, applied.stderr)
    report, answer = report_json(px)
    exempt = violations_of(report, "purpose", "sales.leads")
    check("while it runs, the violation is exempted (with its justification and expiry)",
          exempt and exempt[0].get("exemption", {}).get("expires") == expires and
          "rewritten" in exempt[0]["exemption"]["justification"], answer.stdout[:600])
    sales = {d["domain"]: d for d in (report or {}).get("domains", [])}.get("sales", {})
    check("an exempted violation does not count: sales scores higher than before",
          sales.get("score", 0) > before.get("sales", 100) and sales.get("exempted") == 1, sales)
    time.sleep(max(0.0, (datetime.datetime.strptime(expires, "%Y-%m-%dT%H:%M:%S.%fZ") -
                         datetime.datetime.utcnow()).total_seconds()) + 0.5)
    report, answer = report_json(px)
    back = violations_of(report, "purpose", "sales.leads")
    check("after its expiry the violation is back, counted",
          back and "exemption" not in back[0], answer.stdout[:600])
    sales = {d["domain"]: d for d in (report or {}).get("domains", [])}.get("sales", {})
    check("after its expiry sales scores as before the exemption",
          sales.get("score") == before.get("sales"), (sales, before))

    # An exemption of a policy marked not exemptible is refused.
    add_to_mesh_yaml(mesh, "governance:\n  policies:\n    purpose:\n      exemptible: false\n")
    text = (pathlib.Path(mesh) / "governance/exemptions.yaml").read_text()
    (pathlib.Path(mesh) / "governance/exemptions.yaml").write_text(
        text.replace(expires, "2099-01-01"))
    applied = px("apply")
    check("an exemption of a policy that is not exemptible is refused at apply",
          applied.returncode == 1 and "not exemptible" in applied.stderr and
          "exemptions.yaml" in applied.stderr, applied.stderr)
    mesh_yaml = pathlib.Path(mesh) / "mesh.yaml"
    mesh_yaml.write_text(mesh_yaml.read_text().replace(
        "governance:\n  policies:\n    purpose:\n      exemptible: false\n", ""))


def check_federation(px, mesh):
    domain_yaml = pathlib.Path(mesh) / "domains/sales/domain.yaml"
    original = domain_yaml.read_text()
    domain_yaml.write_text(original + "governance:\n  parameters:\n    purpose:\n"
                           "      min_length: 5000\n")
    applied = px("apply")
    check("a domain parameter outside the mesh's range is refused, with the range and the line",
          applied.returncode == 1 and "between 1 and 1000" in applied.stderr and
          re.search(r"domains/sales/domain\.yaml:\d+", applied.stderr), applied.stderr)
    # Inside the range: the customers domain asks for long purposes; the others keep 20.
    customers = pathlib.Path(mesh) / "domains/customers/domain.yaml"
    customers_original = customers.read_text()
    customers.write_text(customers_original + "governance:\n  parameters:\n    purpose:\n"
                         "      min_length: 600\n")
    domain_yaml.write_text(original)
    applied = px("apply")
    check("a domain parameter inside the range applies", applied.returncode == 0, applied.stderr)
    report, _ = report_json(px)
    check("it tightens its own domain only: customers' purpose now too short, orders' not",
          violations_of(report, "purpose", "customers.customers") and
          not violations_of(report, "purpose", "orders.orders"), report and report["violations"])
    customers.write_text(customers_original)
    # A domain policy may not take a global policy's id.
    write(mesh, {"domains/sales/policies/own.yaml": """apiVersion: plexus/v1
kind: Policies
policies:
  - id: purpose
    title: A weaker purpose rule
    severity: info
    sql: SELECT qualified_name AS entity, 'x' AS message FROM products WHERE false
"""})
    domain_yaml.write_text(original.replace("members: [sam]\n",
                                            "members: [sam]\npolicies: [policies/own.yaml]\n"))
    applied = px("apply")
    check("a domain policy with a global policy's id is refused (it cannot weaken it)",
          applied.returncode == 1 and "global policy" in applied.stderr and
          "own.yaml" in applied.stderr, applied.stderr)
    domain_yaml.write_text(original)
    shutil.rmtree(pathlib.Path(mesh) / "domains/sales/policies")
    px("apply")


BAD_POLICIES = [
    ("does not parse", "SELECT FROM WHERE", "syntax"),
    ("reads outside the catalog views", "SELECT name AS entity, 'x' AS message FROM secrets",
     "catalog views only"),
    ("reads a file", "SELECT 'x' AS entity, 'x' AS message FROM read_csv('/etc/passwd')",
     "read_csv"),
    ("returns the wrong shape", "SELECT name FROM products", "entity and message"),
    ("returns a number for entity", "SELECT 1 AS entity, 'x' AS message FROM products",
     "entity and message"),
    ("uses an undeclared parameter",
     "SELECT name AS entity, 'x' AS message FROM products WHERE length(name) > $nope",
     "$nope"),
]


def check_bad_policies(px, mesh):
    set_policy_files(mesh, ["governance/bad.yaml"])
    for what, sql, reason in BAD_POLICIES:
        write(mesh, {"governance/bad.yaml": f"""apiVersion: plexus/v1
kind: Policies
policies:
  - id: house-rule
    title: A house rule
    severity: warn
    sql: "{sql}"
"""})
        validated = px("validate")
        applied = px("apply")
        check(f"a policy whose SQL {what} is refused by validate and apply, naming it and why",
              validated.returncode == 1 and applied.returncode == 1 and
              "house-rule" in applied.stderr and reason.lower() in applied.stderr.lower() and
              "bad.yaml" in applied.stderr, validated.stderr + applied.stderr)
    set_policy_files(mesh, [])


def check_quarantine(px, mesh, nora):
    write(mesh, {"governance/quarantine.yaml": """apiVersion: plexus/v1
kind: Policies
policies:
  - id: enough-rows
    title: A port of the orders domain holds enough rows to be trusted
    severity: warn
    quarantine: true
    parameters:
      min_rows: {default: 1000000}
    sql: |
      SELECT qualified_name AS entity, 'only ' || rows || ' rows published' AS message
      FROM ports WHERE domain = 'orders' AND rows < $min_rows
"""})
    set_policy_files(mesh, ["governance/quarantine.yaml"])
    applied = px("apply")
    check("a quarantining policy applies", applied.returncode == 0, applied.stderr)
    report, answer = report_json(px)
    flagged = violations_of(report, "enough-rows", "orders.orders")
    check("the report marks the product quarantined", flagged and flagged[0]["quarantine"],
          answer.stdout[:500])
    refused = px("query", "SELECT count(*) AS n FROM orders.orders.orders", token=nora)
    check("a consumer outside the domain is refused a quarantined product, with the reason",
          refused.returncode == 1 and "quarantined" in refused.stderr and
          "enough-rows" in refused.stderr, refused.stdout + refused.stderr)
    admin = px("query", "SELECT count(*) AS n FROM orders.orders.orders")
    check("a mesh admin still reads it", admin.returncode == 0, admin.stdout + admin.stderr)
    set_policy_files(mesh, [])
    px("apply")
    px("governance", "report")
    served = px("query", "SELECT count(*) AS n FROM orders.orders.orders", token=nora)
    check("without the policy the product is served again", served.returncode == 0,
          served.stdout + served.stderr)


def call(base, path, token, method="GET"):
    req = urllib.request.Request(base + path, method=method)
    req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read()


def check_http(base, admin, nora):
    status, _, body = call(base, "/api/v1/governance/report", admin)
    report = json.loads(body) if status == 200 else {}
    check("GET /api/v1/governance/report: per-domain scores and violations",
          status == 200 and {d["domain"] for d in report.get("domains", [])} >=
          {"customers", "sales"} and violations_of(report, "purpose", "sales.leads"),
          body[:400])
    status, kind, body = call(base, "/api/v1/governance/report?format=html", admin)
    check("?format=html answers an HTML page with the scores",
          status == 200 and kind.startswith("text/html") and b"Compliance" in body and
          b"sales.leads" in body, (status, kind, body[:200]))
    status, _, body = call(base, "/api/v1/governance/report", nora)
    seen = json.loads(body) if status == 200 else {}
    check("a principal of no domain sees the scores but no violation",
          status == 200 and seen.get("domains") and seen.get("violations") == [], body[:300])
    status, _, body = call(base, "/api/v1/governance/policies", admin)
    check("GET /api/v1/governance/policies: the policies in force",
          status == 200 and len(json.loads(body).get("policies", [])) == 11, body[:300])
    status, _, _ = call(base, "/api/v1/governance/evaluate", nora, method="POST")
    check("POST /api/v1/governance/evaluate needs a mesh admin (403)", status == 403, status)
    status, _, body = call(base, "/api/v1/governance/evaluate", admin, method="POST")
    check("POST /api/v1/governance/evaluate by an admin answers the report", status == 200,
          body[:300])
    status, _, body = call(base, "/api/v1/governance/evaluations?limit=50", admin)
    triggers = [e["trigger"] for e in json.loads(body).get("evaluations", [])] if status == 200 \
        else []
    check("the evaluations keep serve's scheduled ones, the API's and the applies'",
          "schedule" in triggers and "api" in triggers and "apply" in triggers, triggers)


def main():
    args = mesh_args()
    work, mesh, _, base = scratch_mesh(args, "plexus-governance-")
    server = None
    try:

        def px(*argv, token=None):
            cmd = base + (["--token", token] if token else []) + list(argv)
            return subprocess.run(cmd, capture_output=True, text=True)

        check_example_passes(px)
        check_views_documented(px)
        for step in (["generate"], ["run", "--all"]):
            ran = px(*step)
            check(f"plexus {step[0]} on the example mesh", ran.returncode == 0, ran.stderr)
        nora = shown_token(px("principal", "create", "nora", "--token").stdout)
        check_non_compliant(px, mesh)
        check_exemption(px, mesh)
        check_federation(px, mesh)
        check_bad_policies(px, mesh)
        check_quarantine(px, mesh, nora)

        admin = px("token", "issue").stdout.strip()
        server = subprocess.Popen(base + ["serve", "--port", "0", "--no-pg",
                                          "--governance-interval", "1"],
                                  stdout=subprocess.PIPE, text=True)
        line = server.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
        check("serve prints its HTTP address", match is not None, line)
        if match:
            time.sleep(1.5)  # at least one scheduled evaluation
            check_http(match.group(1), admin, nora)
    finally:
        stop(server)
        shutil.rmtree(work, ignore_errors=True)
        sys.exit(summary())


if __name__ == "__main__":
    main()
