"""The doors of the attack suite: the CLI, HTTP and the PostgreSQL wire protocol (psycopg2's
simple queries, and the extended query protocol spoken by hand with tests/wire's client).

Each door answers an `Answer`: refused or not, the rows when answered, all the text it produced,
and a `problem` when the door misbehaved whatever the SQL (a crash, a 500, a dropped
connection). psycopg2 is Debian's python3-psycopg2: test_attack_suite.py re-runs itself under
/usr/bin/python3 when the python3 that started it has no psycopg2.
"""
import csv
import io
import json
import os
import pathlib
import re
import struct
import subprocess
import sys
import urllib.error
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "wire"))
from test_wire_protocol import Client, ServerError, cstr, error_fields  # noqa: E402

try:
    import psycopg2
except ImportError:  # only the wire door needs it; the suite checks before it starts
    psycopg2 = None


class Answer:
    """What one door said: refused or not, the rows when answered, all the text it produced."""

    def __init__(self, refused, rows, text, problem=""):
        self.refused, self.rows, self.text, self.problem = refused, rows, text, problem


class Plexus:
    """The plexus CLI on one mesh and home; `token` acts as that token's principal."""

    def __init__(self, binary, mesh, home):
        self.base = [binary, "--mesh", mesh, "--home", home]

    def run(self, *args, token=None, env_token=None, check_ok=False, stdin=None):
        env = {k: v for k, v in os.environ.items() if k != "PLEXUS_TOKEN"}
        if env_token is not None:
            env["PLEXUS_TOKEN"] = env_token
        cmd = self.base + (["--token", token] if token is not None else []) + list(args)
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env,
                              input=stdin)
        if check_ok and proc.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed: {proc.stderr}")
        return proc

    def query(self, sql, token, **kw):
        proc = self.run("query", "--format", "json", sql, token=token, **kw)
        text = proc.stdout + proc.stderr
        if proc.returncode == 0:
            try:
                return Answer(False, json.loads(proc.stdout) if proc.stdout.strip() else [], text)
            except ValueError:
                return Answer(False, None, text, "answer is not JSON")
        problem = "" if proc.returncode == 1 and "error" in proc.stderr else \
            f"exit {proc.returncode} (a crash?)"
        return Answer(True, None, text, problem)


class Http:
    """Requests to a running `plexus serve`."""

    def __init__(self, base):
        self.base = base

    def call(self, method, path, token=None, body=None, raw=None, headers=None):
        """(status, parsed JSON or the raw text)."""
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token is not None:
            req.add_header("Authorization", f"Bearer {token}")
        for key, value in (headers or {}).items():
            req.add_header(key, value)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, text = resp.status, resp.read().decode(errors="replace")
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode(errors="replace")
        except (urllib.error.URLError, ConnectionError) as e:  # a response cut off
            return 0, f"connection: {e}"
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text

    def query(self, sql, token):
        status, body = self.call("POST", "/api/v1/query", token, {"sql": sql})
        text = body if isinstance(body, str) else json.dumps(body)
        if status == 200:
            return Answer(False, body if isinstance(body, list) else None, text,
                          "" if isinstance(body, list) else "200 without a JSON array")
        json_error = isinstance(body, dict) and "error" in body
        problem = "" if 400 <= status < 500 and json_error else f"status {status}"
        return Answer(True, None, text, problem)

    def healthy(self):
        return self.call("GET", "/healthz")[0] == 200


def wire_dsn(port, user, password, **extra):
    """A libpq connection string to the wire listener: database plexus, TLS, SCRAM."""
    fields = {"host": "127.0.0.1", "port": port, "dbname": "plexus", "user": user,
              "password": password, "sslmode": "require", "connect_timeout": 10,
              "application_name": "attack-suite"}
    fields.update(extra)
    quote = lambda v: "'" + str(v).replace("\\", "\\\\").replace("'", "\\'") + "'"  # noqa: E731
    return " ".join(f"{k}={quote(v)}" for k, v in fields.items())


class Wire:
    """psycopg2 as one principal over TLS with SCRAM, in autocommit: one connection for many
    statements, opened again only when the server closed it (which the answer reports).

    An error answer counts as a refusal only when it carries an SQLSTATE and the connection
    still answers `SELECT 1` afterwards; anything else is a problem."""

    def __init__(self, port, user, password):
        self.dsn = wire_dsn(port, user, password)
        self.conn = None
        self.reopened = 0
        self.tls = None

    def connect(self):
        self.conn = psycopg2.connect(self.dsn)
        self.conn.autocommit = True
        self.tls = self.conn.info.ssl_in_use

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def query(self, sql, params=None):
        def execute(cur):
            cur.execute(sql, params)
            if cur.description is None:
                return [], cur.statusmessage or ""
            names = [d.name for d in cur.description]
            rows = [dict(zip(names, row)) for row in cur.fetchall()]
            return rows, json.dumps(rows, default=str)
        return self.run(execute)

    def copy(self, sql):
        """COPY ... TO STDOUT; rows when the output is CSV with a header."""
        def execute(cur):
            out = io.StringIO()
            cur.copy_expert(sql, out)
            text = out.getvalue()
            rows = None
            if re.search(r"csv", sql, re.I) and re.search(r"header", sql, re.I):
                rows = [{k: int(v) if v.isdigit() else v for k, v in row.items()}
                        for row in csv.DictReader(io.StringIO(text))]
            return rows, text
        return self.run(execute)

    def run(self, execute):
        if self.conn is None or self.conn.closed:
            self.connect()
            self.reopened += 1
        try:
            with self.conn.cursor() as cur:
                rows, text = execute(cur)
            return Answer(False, rows, text)
        except psycopg2.Error as e:
            text = f"{e.pgcode}: {e}"
            if e.pgcode is None or self.conn.closed:
                self.conn = None
                return Answer(True, None, text, f"the connection dropped: {str(e)[:200]}")
            return Answer(True, None, text, "" if self.usable() else
                          "the connection no longer answers after the error")

    def usable(self):
        try:
            with self.conn.cursor() as cur:
                if self.conn.info.transaction_status == 3:  # in a failed transaction
                    cur.execute("ROLLBACK")
                cur.execute("SELECT 1")
                return cur.fetchone() == (1,)
        except psycopg2.Error:
            self.conn = None
            return False


INT_OIDS = {20, 21, 23, 26}
FLOAT_OIDS = {700, 701, 1700}


def text_value(value, oid):
    if value is None:
        return None
    if oid in INT_OIDS:
        return int(value)
    if oid in FLOAT_OIDS:
        return float(value)
    if oid == 16:
        return value in ("t", "true")
    return value


def binary_value(raw, oid):
    if raw is None:
        return None
    if oid in (20, 21, 23):
        return int.from_bytes(raw, "big", signed=True)
    if oid in (25, 1043, 19):
        return raw.decode()
    return raw.hex()


def row_description(body):
    """[(name, type oid)] of a RowDescription."""
    count, pos, fields = struct.unpack("!h", body[:2])[0], 2, []
    for _ in range(count):
        end = body.index(b"\0", pos)
        name = body[pos:end].decode()
        oid = struct.unpack("!i", body[end + 7:end + 11])[0]
        fields.append((name, oid))
        pos = end + 19
    return fields


def data_values(body):
    count, pos, values = struct.unpack("!h", body[:2])[0], 2, []
    for _ in range(count):
        length = struct.unpack("!i", body[pos:pos + 4])[0]
        pos += 4
        values.append(None if length < 0 else body[pos:pos + length])
        pos += max(length, 0)
    return values


class Extended:
    """One signed-in raw connection speaking the extended query protocol; reopened only when
    the server closed it (the answer then reports the drop)."""

    def __init__(self, port, user, password):
        self.port, self.user, self.password = port, user, password
        self.client = None
        self.opened = 0

    def close(self):
        if self.client is not None:
            self.client.close()
            self.client = None

    def run(self, sql, params=(), binary_params=False, binary_results=False, max_rows=0,
            describe_only=False):
        """Parse (unnamed), Bind the text (or binary) parameters, Describe, Execute, Sync."""
        if self.client is None:
            try:
                self.client = Client(self.port, self.user, self.password)
            except ServerError as e:
                return Answer(True, None, f"{e.fields.get('C')}: {e.fields.get('M')}")
            self.opened += 1
        encoded = [None if p is None else (p if isinstance(p, bytes) else str(p).encode())
                   for p in params]
        bind = cstr("") + cstr("") + struct.pack("!hh", 1, 1 if binary_params else 0)
        bind += struct.pack("!h", len(encoded))
        for value in encoded:
            bind += struct.pack("!i", -1) if value is None else \
                struct.pack("!i", len(value)) + value
        bind += struct.pack("!hh", 1, 1 if binary_results else 0)
        try:
            self.client.send(b"P", cstr("") + cstr(sql) + struct.pack("!h", 0))
            if describe_only:
                self.client.send(b"D", b"S" + cstr(""))
            else:
                self.client.send(b"B", bind)
                self.client.send(b"D", b"P" + cstr(""))
                self.client.send(b"E", cstr("") + struct.pack("!i", max_rows))
            self.client.send(b"S")
            messages = self.client.until_ready()
        except (OSError, ConnectionError, AssertionError, struct.error) as e:
            self.client = None
            return Answer(True, None, repr(e), f"the connection dropped: {e!r}")
        return self.answer(messages, binary_results)

    def answer(self, messages, binary):
        fields, rows, texts, error = [], [], [], None
        for kind, body in messages:
            if kind == b"T":
                fields = row_description(body)
                texts.append(repr(fields))
            elif kind == b"D":
                values = data_values(body)
                decode = binary_value if binary else (
                    lambda raw, oid: text_value(None if raw is None else raw.decode(), oid))
                rows.append({name: decode(v, oid) for (name, oid), v in zip(fields, values)})
            elif kind == b"E":
                error = error_fields(body)
        text = json.dumps(rows, default=str) + " ".join(texts)
        if error is None:
            return Answer(False, rows, text)
        text = f"{error.get('C')}: {error.get('M')} {text}"
        if not error.get("C"):
            return Answer(True, None, text, "an error without an SQLSTATE")
        return Answer(True, None, text, "" if self.usable() else
                      "the connection no longer answers after the error")

    def usable(self):
        try:
            rows, _, error, _ = self.client.query("SELECT 1")
            return rows == [["1"]] and error is None
        except (OSError, ConnectionError, AssertionError):
            self.client = None
            return False


def token_of(proc):
    match = re.search(r"plx_\S+", proc.stdout)
    if not match:
        raise RuntimeError(f"no token in: {proc.stdout} {proc.stderr}")
    return match.group(0)


def start_server(px):
    """`plexus serve` on free ports: (process, Http, the wire port)."""
    server = subprocess.Popen(px.base + ["serve", "--port", "0", "--pg-port", "0"],
                              stdout=subprocess.PIPE, text=True)
    http = pg_port = None
    for _ in range(5):
        line = server.stdout.readline()
        if not line:
            break
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if found:
            http = Http(f"http://127.0.0.1:{found.group(1)}")
        found = re.search(r"PostgreSQL wire protocol on [\d.]+:(\d+)", line)
        if found:
            pg_port = int(found.group(1))
            break
    if http is None or pg_port is None:
        server.kill()
        raise RuntimeError("plexus serve printed no HTTP address or wire port")
    return server, http, pg_port


def stop_server(server):
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
