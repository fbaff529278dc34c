"""What the wire protocol tests share: the example mesh in a fresh home, principals with
passwords, a running `plexus serve --port 0 --pg-port 0`, and the CLI's answers to compare with.

    with WireMesh(args.plexus, args.mesh) as mesh:
        mesh.grant_nora()                     # nora's access request to CLV, approved by grace
        port = mesh.pg_port
        rows = mesh.cli_rows(CROSS_SQL, mesh.nora_token)

Principals: grace (owner of marketing, reads customers masked like any outsider), nora
(country=NL: customers row-filtered to NL, emails hashed; CLV only after the grant). Passwords
are PASSWORDS[name]. Every client connects with TLS (sslmode=require) and SCRAM-SHA-256.
"""
import json
import os
import re
import shutil
import subprocess
import tempfile

PASSWORDS = {"nora": "nora-wire-secret", "grace": "grace-wire-secret"}

CLV_PORT = "marketing.customer_lifetime_value.customer_lifetime_value"
# A cross-domain query (marketing x customers); its numbers are checked against the CLI's.
CROSS_SQL = ("SELECT c.country, count(*) AS customers, round(sum(l.lifetime_value), 2) AS ltv "
             f"FROM {CLV_PORT} AS l JOIN customers.customers.customers AS c USING (customer_id) "
             "GROUP BY c.country ORDER BY c.country")
# The same names written the PostgreSQL way: schema "domain.product", table = the port.
CROSS_SQL_PG = CROSS_SQL.replace(CLV_PORT, '"marketing.customer_lifetime_value".customer_lifetime_value') \
                        .replace("customers.customers.customers", '"customers.customers".customers')
# A statement with one parameter ($1 = a customer id).
PARAM_SQL = ("SELECT customer_id, first_name, country FROM customers.customers.customers "
             "WHERE customer_id = $1")
EMAIL_SQL = "SELECT email, country FROM customers.customers.customers ORDER BY customer_id"


def normalise(rows):
    """Rows as tuples of text, numbers written one way (1, 1.0 and '1.00' are the same)."""
    out = []
    for row in rows:
        cells = []
        for v in (row.values() if isinstance(row, dict) else row):
            if v is None:
                cells.append(None)
                continue
            try:
                cells.append(repr(round(float(v), 6)))
            except (TypeError, ValueError):
                cells.append(str(v))
        out.append(tuple(cells))
    return out


def is_hash(value):
    return value is None or re.fullmatch(r"[0-9a-f]{64}", str(value)) is not None


class WireMesh:
    def __init__(self, plexus, mesh_dir):
        self.work = tempfile.mkdtemp(prefix="plexus-wire-")
        self.mesh = os.path.join(self.work, "mesh")
        self.home = os.path.join(self.work, "home")
        shutil.copytree(mesh_dir, self.mesh)
        self.base = [os.path.abspath(plexus), "--mesh", self.mesh, "--home", self.home]
        self.server = None
        self.pg_port = None
        self.http_port = None

    def __enter__(self):
        for step in (["generate"], ["apply"], ["run", "--all"]):
            self.run(*step)
        self.nora_token = self.token_of(self.run("principal", "create", "nora", "--attr",
                                                 "country=NL", "--token"))
        self.grace_token = self.token_of(self.run("token", "issue", "grace"))
        for name, password in PASSWORDS.items():
            self.run("principal", "password", name, stdin=password + "\n")
        self.start_server()
        return self

    def __exit__(self, *exc):
        if self.server is not None:
            self.server.terminate()
            try:
                self.server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.server.kill()
        shutil.rmtree(self.work, ignore_errors=True)
        return False

    def run(self, *args, token=None, stdin=None, check=True):
        cmd = self.base + (["--token", token] if token else []) + list(args)
        env = {k: v for k, v in os.environ.items() if k != "PLEXUS_TOKEN"}
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env,
                              input=stdin)
        if check and proc.returncode != 0:
            raise RuntimeError(f"plexus {' '.join(args)} failed: {proc.stdout} {proc.stderr}")
        return proc

    @staticmethod
    def token_of(proc):
        match = re.search(r"plx_\S+", proc.stdout)
        if not match:
            raise RuntimeError(f"no token in: {proc.stdout} {proc.stderr}")
        return match.group(0)

    def start_server(self):
        self.server = subprocess.Popen(self.base + ["serve", "--port", "0", "--pg-port", "0"],
                                       stdout=subprocess.PIPE, text=True)
        for _ in range(5):
            line = self.server.stdout.readline()
            if not line:
                break
            http = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
            if http:
                self.http_port = int(http.group(1))
            pg = re.search(r"PostgreSQL wire protocol on [\d.]+:(\d+)", line)
            if pg:
                self.pg_port = int(pg.group(1))
                break
        if self.pg_port is None:
            raise RuntimeError("plexus serve printed no PostgreSQL wire protocol port")

    def grant_nora(self):
        """nora asks for CLV; grace (marketing's owner) approves. Returns the grant's number."""
        requested = self.run("access", "request", "marketing.customer_lifetime_value",
                             "--purpose", "wire protocol test", token=self.nora_token)
        match = re.search(r"#(\d+)", requested.stdout + requested.stderr)
        if not match:
            raise RuntimeError(f"no request id in: {requested.stdout} {requested.stderr}")
        approved = self.run("access", "approve", match.group(1), token=self.grace_token)
        grant = re.search(r"grant #(\d+)", approved.stdout)
        return grant.group(1) if grant else None

    def cli_rows(self, sql, token):
        """The CLI's answer (the reference every client's answer is compared with)."""
        proc = self.run("query", "--format", "json", sql, token=token)
        return json.loads(proc.stdout) if proc.stdout.strip() else []

    def dsn(self, user):
        return (f"host=127.0.0.1 port={self.pg_port} dbname=plexus user={user} "
                f"password={PASSWORDS[user]} sslmode=require")


def require(path_or_command, what):
    """A client the test needs; bootstrap installs it. Missing: a clear failure, not a skip."""
    found = os.path.exists(path_or_command) or shutil.which(path_or_command) is not None
    if not found:
        raise SystemExit(f"FAIL  {what} not found ({path_or_command}): run scripts/bootstrap.sh")
    return path_or_command


def check_client_session(mesh, out, customer_id, listing, param_runs, param_what):
    """The checks every real client's session shares (its JSON answer `out`): TLS, the ports it
    lists, the cross-domain and parameter queries equal to the CLI's answers, nora's masked
    emails and row filter, a refused write. Returns the listed (schema, table) pairs."""
    from checks import check  # the caller has put tests/support on sys.path
    check("TLS is in use", out["ssl"] is True, out)
    tables = [tuple(t) for t in out["tables"]]
    check(f"{listing} lists the visible ports",
          ("customers.customers", "customers") in tables
          and ("marketing.customer_lifetime_value", "customer_lifetime_value") in tables, tables)
    cli = normalise(mesh.cli_rows(CROSS_SQL, mesh.nora_token))
    check("cross-domain query equals the CLI's answer",
          normalise(out["cross"]) == cli and len(cli) > 0, (out["cross"], cli))
    cli_param = normalise(mesh.cli_rows(PARAM_SQL.replace("$1", str(customer_id)),
                                        mesh.nora_token))
    check(param_what, all(normalise(p) == cli_param for p in param_runs) and len(cli_param) == 1,
          (param_runs, cli_param))
    check("nora sees emails hashed and only NL customers",
          out["emails"] and all(is_hash(e) and c == "NL" for e, c in out["emails"]),
          out["emails"][:3])
    check("a write is refused with SQLSTATE 25006", out["write"] == "25006", out["write"])
    return tables
