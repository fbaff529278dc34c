"""A PostgreSQL wire protocol client written byte by byte (stdlib only: socket, ssl), for the
tests that need to send what real clients never send: TLS + SCRAM-SHA-256 sign-in, simple and
extended query messages, cancel requests, and raw bytes.

    client = Client(port, user="admin", password=PASSWORD)
    rows = client.query("SELECT 1")        # raises ServerError with the SQLSTATE on an error
"""
import base64
import hashlib
import hmac
import os
import socket
import ssl
import struct

PASSWORD = "wire-test-password"  # the test principal's; the tests set it


class ServerError(Exception):
    def __init__(self, fields):
        self.fields = fields
        super().__init__(f"{fields.get('C')}: {fields.get('M')}")


def error_fields(body):
    fields = {}
    for part in body.split(b"\0"):
        if part:
            fields[chr(part[0])] = part[1:].decode(errors="replace")
    return fields


class Client:
    """A minimal PostgreSQL client: TLS, SCRAM-SHA-256, simple and extended queries."""

    def __init__(self, port, user="admin", password=PASSWORD, tls=True, startup=True):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.params, self.key = {}, None
        if tls:
            self.sock.sendall(struct.pack("!ii", 8, 80877103))
            answer = self.sock.recv(1)
            assert answer == b"S", answer
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            self.sock = ctx.wrap_socket(self.sock)
        self.buffer = b""
        if startup:
            self.startup(user)
            self.scram(user, password)

    def startup(self, user, database="plexus"):
        body = struct.pack("!i", 196608) + b"user\0" + user.encode() + b"\0database\0" + \
            database.encode() + b"\0application_name\0wire-test\0\0"
        self.sock.sendall(struct.pack("!i", len(body) + 4) + body)

    def send(self, kind, body=b""):
        self.sock.sendall(kind + struct.pack("!i", len(body) + 4) + body)

    def recv_exact(self, n):
        while len(self.buffer) < n:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("closed by the server")
            self.buffer += data
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def message(self):
        head = self.recv_exact(5)
        length = struct.unpack("!i", head[1:])[0]
        return head[:1], self.recv_exact(length - 4)

    def expect_auth(self, code):
        kind, body = self.message()
        if kind == b"E":
            raise ServerError(error_fields(body))
        assert kind == b"R" and struct.unpack("!i", body[:4])[0] == code, (kind, body)
        return body[4:]

    def scram(self, user, password):
        mechanisms = self.expect_auth(10)
        assert b"SCRAM-SHA-256" in mechanisms, mechanisms
        nonce = base64.b64encode(os.urandom(18)).decode()
        first_bare = "n=,r=" + nonce
        first = ("n,," + first_bare).encode()
        self.send(b"p", b"SCRAM-SHA-256\0" + struct.pack("!i", len(first)) + first)
        server_first = self.expect_auth(11).decode()
        attrs = dict(part.split("=", 1) for part in server_first.split(","))
        salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(attrs["s"]),
                                     int(attrs["i"]))
        client_key = hmac.new(salted, b"Client Key", "sha256").digest()
        stored_key = hashlib.sha256(client_key).digest()
        without_proof = "c=biws,r=" + attrs["r"]
        auth = f"{first_bare},{server_first},{without_proof}".encode()
        signature = hmac.new(stored_key, auth, "sha256").digest()
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        self.send(b"p", (without_proof + ",p=" + base64.b64encode(proof).decode()).encode())
        final = self.expect_auth(12).decode()
        server_key = hmac.new(salted, b"Server Key", "sha256").digest()
        expected = "v=" + base64.b64encode(hmac.new(server_key, auth, "sha256").digest()).decode()
        assert final == expected, "the server did not prove it knows the verifier"
        self.expect_auth(0)
        self.until_ready()

    def until_ready(self):
        """Reads to ReadyForQuery: [(kind, body)], with ParameterStatus/BackendKeyData noted."""
        messages = []
        while True:
            kind, body = self.message()
            if kind == b"S":
                name, value = body.rstrip(b"\0").split(b"\0")
                self.params[name.decode()] = value.decode()
            elif kind == b"K":
                self.key = struct.unpack("!ii", body)
            elif kind == b"Z":
                return messages
            else:
                messages.append((kind, body))

    def query(self, sql):
        """Simple query: (rows of text values, command tags, error fields or None)."""
        self.send(b"Q", sql.encode() + b"\0")
        return summarize(self.until_ready())

    def close(self):
        try:
            self.send(b"X")
            self.sock.close()
        except OSError:
            pass


def data_row(body):
    count = struct.unpack("!h", body[:2])[0]
    values, pos = [], 2
    for _ in range(count):
        length = struct.unpack("!i", body[pos:pos + 4])[0]
        pos += 4
        if length < 0:
            values.append(None)
        else:
            values.append(body[pos:pos + length].decode())
            pos += length
    return values


def summarize(messages):
    rows, tags, error, kinds = [], [], None, []
    for kind, body in messages:
        kinds.append(kind)
        if kind == b"D":
            rows.append(data_row(body))
        elif kind == b"C":
            tags.append(body.rstrip(b"\0").decode())
        elif kind == b"E":
            error = error_fields(body)
    return rows, tags, error, kinds


def cstr(text):
    return text.encode() + b"\0"


def fatal_of(sock_client):
    """The error a server sends before closing, or None when it just closes."""
    try:
        while True:
            kind, body = sock_client.message()
            if kind == b"E":
                return error_fields(body)
    except (ConnectionError, OSError):
        return None
