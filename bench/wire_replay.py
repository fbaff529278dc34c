#!/usr/bin/env python3
"""The psql floor of scripts/bench_wire.sh: how fast psql itself can take an answer.

  wire_replay.py answer OUT COLUMNS < copy.txt   # COPY ... TO STDOUT text -> the simple-query
                                                 # answer PostgreSQL sends for those rows
  wire_replay.py serve PORT ANSWER CERT KEY      # a 'server' that signs anyone in over TLS and
                                                 # sends ANSWER, prebuilt, for every query

COLUMNS is name:type_oid,... . The replay does no work per row, so `psql -At` against it takes
psql's own time (libpq's parse, TLS, printing): the most rows/s any server can reach in the
benchmark's SELECT series on this machine, and so the highest ratio to PostgreSQL possible.
"""
import socket
import ssl
import struct
import sys


def message(kind, body):
    return kind + struct.pack("!i", len(body) + 4) + body


def build_answer(out_path, columns):
    cols = [(c.split(":")[0], int(c.split(":")[1])) for c in columns.split(",")]
    desc = struct.pack("!h", len(cols))
    for name, oid in cols:
        desc += name.encode() + b"\0" + struct.pack("!ihihih", 0, 0, oid, -1, -1, 0)
    rows = 0
    with open(out_path, "wb") as out:
        pending = [message(b"T", desc)]
        for line in sys.stdin.buffer:
            parts = [struct.pack("!h", len(cols))]
            for field in line.rstrip(b"\n").split(b"\t"):
                if field == b"\\N":
                    parts.append(b"\xff\xff\xff\xff")
                else:  # the bench's values hold no COPY escapes (no tabs, newlines, backslashes)
                    parts.append(struct.pack("!i", len(field)) + field)
            pending.append(message(b"D", b"".join(parts)))
            rows += 1
            if len(pending) >= 100000:
                out.write(b"".join(pending))
                pending = []
        pending.append(message(b"C", b"SELECT %d\0" % rows) + message(b"Z", b"I"))
        out.write(b"".join(pending))
    print(rows)


def read_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def serve(port, answer_path, cert, key):
    answer = memoryview(open(answer_path, "rb").read())
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(8)
    print("ready", flush=True)
    while True:
        conn, _ = listener.accept()
        try:
            size = struct.unpack("!i", read_exact(conn, 4))[0]
            if struct.unpack("!i", read_exact(conn, size - 4)[:4])[0] == 80877103:  # SSLRequest
                conn.sendall(b"S")
                conn = tls.wrap_socket(conn, server_side=True)
                size = struct.unpack("!i", read_exact(conn, 4))[0]
                read_exact(conn, size - 4)  # the startup packet
            hello = message(b"R", struct.pack("!i", 0))  # AuthenticationOk
            for name, value in [("server_version", "15.0"), ("server_encoding", "UTF8"),
                                ("client_encoding", "UTF8"), ("DateStyle", "ISO, MDY"),
                                ("integer_datetimes", "on"), ("TimeZone", "UTC"),
                                ("standard_conforming_strings", "on")]:
                hello += message(b"S", name.encode() + b"\0" + value.encode() + b"\0")
            conn.sendall(hello + message(b"K", struct.pack("!ii", 1, 1)) + message(b"Z", b"I"))
            while True:
                kind = read_exact(conn, 1)
                read_exact(conn, struct.unpack("!i", read_exact(conn, 4))[0] - 4)
                if kind == b"X":
                    break
                if kind == b"Q":
                    for at in range(0, len(answer), 1 << 20):
                        conn.sendall(answer[at:at + (1 << 20)])
        except (EOFError, ConnectionError, ssl.SSLError):
            pass
        finally:
            conn.close()


if __name__ == "__main__":
    if sys.argv[1] == "answer":
        build_answer(sys.argv[2], sys.argv[3])
    else:
        serve(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5])
