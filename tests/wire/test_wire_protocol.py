#!/usr/bin/env python3
"""The PostgreSQL wire protocol, end to end, spoken byte by byte (stdlib only: socket, ssl).

Builds the example mesh in a fresh home, starts `plexus serve --pg-port 0`, and checks what a
client sees: TLS + SCRAM-SHA-256 sign-in (the client side written here), a simple query, an
extended query with a parameter and a row limit (PortalSuspended), COPY TO STDOUT, a refused
statement (42501, the connection carries on), a cancel request and a statement timeout
(57014), PREPARE/EXECUTE/DEALLOCATE (also through Bind and Parse); then bad clients: one that
stops reading its result (closed once its write stalls), garbage bytes, a truncated message, an oversized length, an
unknown message type, a bad SCRAM proof, a half-finished SCRAM, 300 connections at once
(the ones over the limit get 53300). After each, a good client still works.
"""
import argparse
import os
import pathlib
import re
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
from checks import check, summary  # noqa: E402
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from pg_client import (PASSWORD, Client, ServerError, cstr, error_fields,  # noqa: E402
                       fatal_of, summarize)


def good_client_works(port, what):
    try:
        client = Client(port)
        rows, _, error, _ = client.query("SELECT count(*) FROM orders.orders.orders")
        client.close()
        check(f"after {what}: a good client still signs in and reads", rows == [["600"]] and
              error is None, (rows, error))
    except Exception as e:  # noqa: BLE001
        check(f"after {what}: a good client still signs in and reads", False, repr(e))


def test_sign_in_and_queries(port):
    client = Client(port)
    check("sign-in reports server_version, UTF8 and a backend key",
          client.params.get("server_version", "").startswith("15") and
          client.params.get("client_encoding") == "UTF8" and client.key is not None,
          (client.params, client.key))
    rows, tags, error, _ = client.query("SELECT count(*) AS n FROM orders.orders.orders")
    check("simple query answers over TLS", rows == [["600"]] and tags == ["SELECT 1"],
          (rows, tags, error))
    rows, tags, error, _ = client.query("SELECT 1 AS a; SELECT 'two;' AS b")
    check("a multi-statement string runs each statement", rows == [["1"], ["two;"]] and
          tags == ["SELECT 1", "SELECT 1"], (rows, tags, error))
    rows, tags, error, _ = client.query("SELECT * FROM read_csv('/etc/passwd')")
    check("a refused statement answers 42501", error is not None and error.get("C") == "42501",
          error)
    rows, _, error, _ = client.query("SELECT 42")
    check("the connection works after a refusal", rows == [["42"]], (rows, error))
    return client


def test_extended(client):
    sql = "SELECT order_id FROM orders.orders.orders WHERE order_id <= $1 ORDER BY order_id"
    client.send(b"P", cstr("by_id") + cstr(sql) + struct.pack("!h", 0))
    client.send(b"D", b"S" + cstr("by_id"))
    client.send(b"B", cstr("p1") + cstr("by_id") + struct.pack("!hhi", 0, 1, 2) + b"10" +
                struct.pack("!h", 0))
    client.send(b"E", cstr("p1") + struct.pack("!i", 3))
    client.send(b"E", cstr("p1") + struct.pack("!i", 0))
    client.send(b"S")
    messages = client.until_ready()
    kinds = [k for k, _ in messages]
    rows, tags, error, _ = summarize(messages)
    check("extended query: Parse, Describe (t, T), Bind, 3 rows, PortalSuspended, the rest",
          kinds[:4] == [b"1", b"t", b"T", b"2"] and b"s" in kinds and error is None and
          [r[0] for r in rows] == [str(i) for i in range(1, 11)] and tags == ["SELECT 7"],
          (kinds, rows, tags, error))
    client.send(b"B", cstr("") + cstr("missing") + struct.pack("!hhh", 0, 0, 0))
    client.send(b"E", cstr("") + struct.pack("!i", 0))
    client.send(b"S")
    _, _, error, kinds = summarize(client.until_ready())
    check("an extended-protocol error skips to Sync (26000, nothing after it)",
          error is not None and error.get("C") == "26000" and kinds == [b"E"], (error, kinds))


def test_sql_prepared(client):
    """PREPARE / EXECUTE / DEALLOCATE share the names of Parse's statements, as in PostgreSQL."""
    sql = "SELECT order_id FROM orders.orders.orders WHERE order_id <= $1 ORDER BY order_id"
    rows, tags, error, _ = client.query(f"PREPARE upto(int) AS {sql}; EXECUTE upto(3)")
    check("PREPARE then EXECUTE in one simple query: tags PREPARE, SELECT 3",
          tags == ["PREPARE", "SELECT 3"] and rows == [["1"], ["2"], ["3"]], (rows, tags, error))
    client.send(b"B", cstr("") + cstr("upto") + struct.pack("!hhi", 0, 1, 1) + b"2" +
                struct.pack("!h", 0))
    client.send(b"E", cstr("") + struct.pack("!i", 0))
    client.send(b"S")
    rows, tags, error, _ = summarize(client.until_ready())
    check("a PREPAREd statement can be Bound by name", rows == [["1"], ["2"]] and
          tags == ["SELECT 2"], (rows, tags, error))
    client.send(b"P", cstr("") + cstr("EXECUTE upto(5)") + struct.pack("!h", 0))
    client.send(b"B", cstr("") + cstr("") + struct.pack("!hhh", 0, 0, 0))
    client.send(b"D", b"P" + cstr(""))
    client.send(b"E", cstr("") + struct.pack("!i", 2))
    client.send(b"E", cstr("") + struct.pack("!i", 0))
    client.send(b"S")
    messages = client.until_ready()
    rows, tags, error, kinds = summarize(messages)
    check("EXECUTE through the extended protocol: described, row limit, suspended, the rest",
          kinds[:3] == [b"1", b"2", b"T"] and b"s" in kinds and
          [r[0] for r in rows] == ["1", "2", "3", "4", "5"] and tags == ["SELECT 3"],
          (kinds, rows, tags, error))
    rows, tags, error, _ = client.query("DEALLOCATE ALL; EXECUTE upto(1)")
    check("DEALLOCATE ALL drops them (26000 after)", tags == ["DEALLOCATE ALL"] and
          error is not None and error.get("C") == "26000", (tags, error))


def test_copy(client):
    client.send(b"Q", cstr("COPY (SELECT order_id, status FROM orders.orders.orders ORDER BY order_id "
                           "LIMIT 3) TO STDOUT WITH (FORMAT csv, HEADER)"))
    messages = client.until_ready()
    kinds = [k for k, _ in messages]
    data = b"".join(body for kind, body in messages if kind == b"d").decode()
    lines = data.splitlines()
    tags = [body.rstrip(b"\0").decode() for kind, body in messages if kind == b"C"]
    check("COPY TO STDOUT: CopyOutResponse, a CSV header and 3 rows, CopyDone, COPY 3",
          kinds[0] == b"H" and b"c" in kinds and lines[0] == "order_id,status" and len(lines) == 4 and
          tags == ["COPY 3"], (kinds, lines, tags))


def test_big_answer(client):
    """Answers of many chunks (fetched ahead on the server's side): in order, whole, and a
    suspended portal of one can be resumed or closed half-way."""
    rows, tags, error, _ = client.query("SELECT range, 'row ' || range FROM range(20000)")
    check("a 20,000-row answer arrives whole and in order",
          error is None and tags == ["SELECT 20000"] and
          rows == [[str(i), f"row {i}"] for i in range(20000)], (len(rows), tags, error))
    client.send(b"P", cstr("big") + cstr("SELECT range FROM range(20000)") + struct.pack("!h", 0))
    for portal, limit in ((b"b1", 0), (b"b2", 4500)):
        client.send(b"B", portal + b"\0" + cstr("big") + struct.pack("!hhh", 0, 0, 0))
        client.send(b"E", portal + b"\0" + struct.pack("!i", 4500))
        client.send(b"E", portal + b"\0" + struct.pack("!i", limit))
    client.send(b"C", b"P" + cstr("b2"))  # closed with 11,000 rows not sent
    client.send(b"S")
    rows, tags, error, kinds = summarize(client.until_ready())
    check("a suspended big portal resumes where it stopped, another closes half-way",
          error is None and tags == ["SELECT 15500"] and
          [r[0] for r in rows] == [str(i) for i in range(20000)] + [str(i) for i in range(9000)]
          and kinds.count(b"s") == 3 and b"3" in kinds, (len(rows), tags, error))
    rows, _, error, _ = client.query("SELECT 42")
    check("the connection carries on after them", rows == [["42"]], (rows, error))


LONG_QUERY = "SELECT count(*) FROM range(1000000) a, range(1000000) b WHERE a.range + b.range = -1"


def test_cancel(port):
    client = Client(port)
    pid, secret = client.key
    client.send(b"Q", cstr(LONG_QUERY))
    time.sleep(0.7)
    cancel = socket.create_connection(("127.0.0.1", port), timeout=10)
    cancel.sendall(struct.pack("!iiii", 16, 80877102, pid, secret))
    cancel.close()
    started = time.time()
    _, _, error, _ = summarize(client.until_ready())
    check("a cancel request stops the running query with 57014",
          error is not None and error.get("C") == "57014" and "user request" in error.get("M", "")
          and time.time() - started < 20, error)
    rows, _, error, _ = client.query("SELECT 1")
    check("the cancelled connection carries on", rows == [["1"]], (rows, error))
    rows, tags, error, _ = client.query("SET statement_timeout = 300")
    started = time.time()
    _, _, error, _ = client.query(LONG_QUERY)
    check("a statement past statement_timeout is cancelled with 57014",
          error is not None and error.get("C") == "57014" and "timeout" in error.get("M", "") and
          time.time() - started < 20, error)
    client.close()


def test_stalled_reader(port):
    """A client that sends a big SELECT and never reads: once the server's write has made no
    progress for the write limit (here the session's statement_timeout), it closes that
    connection; the others carry on."""
    client = Client(port)
    client.query("SET statement_timeout = '1s'")
    total = 200_000 * 1000
    client.send(b"Q", cstr("SELECT repeat('x', 1000) AS pad FROM range(200000)"))
    time.sleep(4)  # the socket buffers fill up within a second; then nothing moves
    good_client_works(port, "a client that stopped reading (while it is stalled)")
    received, closed = 0, False
    client.sock.settimeout(15)
    try:
        while True:
            data = client.sock.recv(1 << 20)
            if not data:
                closed = True
                break
            received += len(data)
    except socket.timeout:
        closed = False  # still open: the server would have waited forever
    except (ConnectionError, ssl.SSLError, OSError):
        closed = True
    check("a client that stops reading is disconnected (not its whole result buffered)",
          closed and received < total // 2, (closed, received))
    client.sock.close()
    good_client_works(port, "a client that stopped reading")


def test_bad_clients(port):
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    raw.sendall(b"hello, this is not PostgreSQL at all\r\n\r\n")
    bad = Client.__new__(Client)
    bad.sock, bad.buffer = raw, b""
    error = fatal_of(bad)
    check("garbage bytes: 08P01 and closed", error is not None and error.get("C") == "08P01", error)
    good_client_works(port, "garbage bytes")

    client = Client(port)
    client.send(b"B", b"\0\0")  # Bind that ends after its two names
    error = fatal_of(client)
    check("a truncated message: 08P01 'truncated' and closed",
          error is not None and error.get("C") == "08P01" and "truncated" in error.get("M", ""),
          error)
    good_client_works(port, "a truncated message")

    client = Client(port)
    client.sock.sendall(b"Q" + struct.pack("!i", 0x7FFFFFF0) + b"SELECT 1")
    error = fatal_of(client)
    check("an oversized length: 08P01 'too large' before the body arrives",
          error is not None and error.get("C") == "08P01" and "too large" in error.get("M", ""),
          error)
    good_client_works(port, "an oversized length")

    client = Client(port)
    client.send(b"z", b"whatever")
    error = fatal_of(client)
    check("an unknown message type: 08P01 and closed",
          error is not None and error.get("C") == "08P01", error)
    good_client_works(port, "an unknown message type")

    for user, what in [("admin", "a bad SCRAM proof"), ("nobody", "an unknown user")]:
        try:
            Client(port, user=user, password="wrong-password")
            check(f"{what}: refused", False, "signed in")
        except ServerError as e:
            check(f"{what}: 28P01 password authentication failed",
                  e.fields.get("C") == "28P01" and
                  e.fields.get("M") == f'password authentication failed for user "{user}"',
                  e.fields)
    good_client_works(port, "bad SCRAM proofs")

    half = Client(port, startup=False)
    half.startup("admin")
    half.expect_auth(10)
    half.send(b"p", b"SCRAM-SHA-256\0" + struct.pack("!i", 10) + b"n,,n=,r=ab")
    half.expect_auth(11)
    half.sock.close()  # and never finishes
    good_client_works(port, "a half-finished SCRAM exchange")

    try:
        Client(port, tls=False)
        check("a client without TLS is refused", False, "signed in")
    except ServerError as e:
        check("a client without TLS is refused (28000)", e.fields.get("C") == "28000", e.fields)


def test_flood(port):
    clients, refused, lock = [], [], threading.Lock()

    def open_one():
        try:
            c = Client(port, startup=False)
            c.startup("admin")
            kind, body = c.message()
            with lock:
                if kind == b"E":
                    refused.append(error_fields(body))
                clients.append(c)
        except Exception as e:  # noqa: BLE001
            with lock:
                refused.append({"C": "exception", "M": repr(e)})

    threads = [threading.Thread(target=open_one) for _ in range(300)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = [f.get("C") for f in refused]
    check("300 connections at once: 100 over the limit get 53300 'too many clients'",
          codes.count("53300") == 100 and len(codes) == 100, codes[:5])
    for c in clients:
        c.sock.close()
    deadline = time.time() + 10
    while time.time() < deadline:  # the server notices the closed sockets
        try:
            Client(port).close()
            break
        except ServerError:
            time.sleep(0.2)
    good_client_works(port, "300 connections at once")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--plexus", required=True)
    parser.add_argument("--mesh", default=str(pathlib.Path(__file__).resolve().parents[2] /
                                              "examples" / "jaffle-mesh"))
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="plexus-wire-")
    server = None
    try:
        base = [args.plexus, "--mesh", args.mesh, "--home", home]
        subprocess.run(base + ["apply"], check=True, capture_output=True)
        subprocess.run(base + ["run", "--all"], check=True, capture_output=True)
        subprocess.run(base + ["principal", "password", "admin"], input=PASSWORD + "\n",
                       check=True, capture_output=True, text=True)
        server = subprocess.Popen(base + ["serve", "--port", "0", "--pg-port", "0"],
                                  stdout=subprocess.PIPE, text=True)
        server.stdout.readline()  # the HTTP line
        line = server.stdout.readline()
        match = re.search(r"PostgreSQL wire protocol on 127\.0\.0\.1:(\d+) \(TLS\)", line)
        check("serve prints the wire protocol's address", match is not None, line)
        if not match:
            return
        port = int(match.group(1))
        check("the self-signed key is private (0600)",
              (os.stat(os.path.join(home, "tls", "server.key")).st_mode & 0o777) == 0o600)
        client = test_sign_in_and_queries(port)
        test_extended(client)
        test_sql_prepared(client)
        test_copy(client)
        test_big_answer(client)
        client.close()
        test_cancel(port)
        test_stalled_reader(port)
        test_bad_clients(port)
        test_flood(port)
        check("the server is still running", server.poll() is None)
    finally:
        if server:
            server.terminate()
            try:
                server.wait(timeout=20)
                check("SIGTERM stops the server cleanly", server.returncode == 0, server.returncode)
            except subprocess.TimeoutExpired:
                server.kill()
                check("SIGTERM stops the server cleanly", False, "still running after 20 s")
        shutil.rmtree(home, ignore_errors=True)
    sys.exit(summary())


if __name__ == "__main__":
    main()
