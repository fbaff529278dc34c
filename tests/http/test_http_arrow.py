#!/usr/bin/env python3
"""POST /api/v1/query with "format": "arrow": an Arrow IPC stream read by a real Arrow reader.

A running `plexus serve` over the example mesh. nora (country=NL, emails hashed for her) asks
for customers with one column of each common type (integers signed and unsigned, floats,
decimals, HUGEINT, bool, text, blob, uuid, date, time, timestamps with and without time zone,
interval, NULL). The stream is read by npm apache-arrow (installed into third_party/arrow by
scripts/bootstrap.sh) and every value must equal the same query's JSON answer; the row filter
and the mask apply. A 320,000-row result arrives in many record batches, each row intact.
Nested columns (LIST, STRUCT, MAP, ARRAY, lists of lists) hold the values they were built
from; an ENUM is refused with a JSON 400 naming the column; refusals stay JSON errors.
`plexus query --format arrow` writes the same stream to stdout.
"""
import datetime
import decimal
import json
import os
import pathlib
import re
import struct
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

HERE = pathlib.Path(__file__).resolve()
sys.path.insert(0, str(HERE.parents[1] / "support"))
sys.path.insert(0, str(HERE.parents[1] / "wire"))
from checks import check, mesh_args, summary  # noqa: E402
from wire_mesh import WireMesh, is_hash, require  # noqa: E402

NODE_MODULES = HERE.parents[2] / "third_party" / "arrow" / "node_modules"
READER = HERE.parent / "arrow_read.cjs"

TYPES_SQL = """SELECT customer_id, first_name, email, country,
  customer_id::TINYINT AS i8, (-customer_id)::SMALLINT AS i16, customer_id::INTEGER AS i32,
  customer_id::BIGINT * 1000000000 AS i64, customer_id::UTINYINT AS u8,
  customer_id::USMALLINT AS u16, customer_id::UINTEGER AS u32,
  customer_id::UBIGINT * 1000000000000 AS u64, customer_id / 3 AS dbl,
  (customer_id / 3)::FLOAT AS flt, (customer_id * 1.25)::DECIMAL(10,2) AS dec,
  (-customer_id * 123456789.125)::DECIMAL(38,3) AS dec38,
  customer_id::HUGEINT * 100000000000000000000 AS huge, customer_id % 2 = 0 AS flag,
  ('x' || customer_id)::BLOB AS bin, '550e8400-e29b-41d4-a716-446655440000'::UUID AS id,
  DATE '2024-01-01' + customer_id::INTEGER AS day,
  TIME '12:00:00' + INTERVAL (customer_id) SECOND AS t,
  TIMESTAMP '2024-01-01 00:00:00.123456' + INTERVAL (customer_id) HOUR AS ts,
  TIMESTAMPTZ '2024-01-01 00:00:00+00' + INTERVAL (customer_id) MINUTE AS tstz,
  INTERVAL (customer_id) DAY + INTERVAL 1 MONTH + INTERVAL 90 SECOND AS iv,
  NULL AS nothing, CASE WHEN customer_id % 3 = 0 THEN NULL ELSE customer_id END AS sometimes
FROM customers.customers.customers ORDER BY customer_id"""
NESTED_SQL = """SELECT customer_id::INTEGER AS id, email, country, [customer_id::INTEGER, NULL] AS ids,
  {'email': email, 'tags': [country, NULL]} AS info,
  MAP {country: customer_id::INTEGER} AS by_country,
  [customer_id::INTEGER, 7]::INTEGER[2] AS pair,
  CASE WHEN customer_id % 2 = 0 THEN NULL ELSE [[customer_id::INTEGER]] END AS deep
  FROM customers.customers.customers ORDER BY customer_id"""
BIG_SQL = "SELECT i, i * 0.5 AS half, 'row ' || i AS label FROM range(320000) t(i) ORDER BY i"
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
UNITS = {"SECOND": 1, "MILLISECOND": 10**3, "MICROSECOND": 10**6, "NANOSECOND": 10**9}


def post(port, token, body):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/query", data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def read_arrow(stream):
    """The stream as apache-arrow reads it (arrow_read.cjs's JSON)."""
    with tempfile.NamedTemporaryFile(suffix=".arrows") as f:
        f.write(stream)
        f.flush()
        proc = subprocess.run(["node", str(READER), f.name], capture_output=True, text=True,
                              timeout=120, env=dict(os.environ, NODE_PATH=str(NODE_MODULES)))
    if proc.returncode != 0:
        raise RuntimeError("apache-arrow could not read the stream: " + proc.stderr[-2000:])
    return json.loads(proc.stdout)


def micros_of_day(text):
    t = datetime.time.fromisoformat(text)
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 10**6 + t.microsecond


def instant(text, unit):
    """A DuckDB timestamp's text as a count of `unit` since 1970 (naive ones read as UTC)."""
    text = re.sub(r"([+-]\d\d)$", r"\1:00", text)
    moment = datetime.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    delta = moment - EPOCH
    micros = (delta.days * 86400 + delta.seconds) * 10**6 + delta.microseconds
    return str(micros * UNITS[unit] // 10**6)


def interval(text):
    """DuckDB's interval text (1 month 2 days 00:01:30) as [months, days, nanoseconds]."""
    months = days = nanos = 0
    for amount, word in re.findall(r"(-?\d+) (year|month|day)s?", text):
        months += int(amount) * (12 if word == "year" else 1) if word != "day" else 0
        days += int(amount) if word == "day" else 0
    clock = re.search(r"(-?)(\d+):(\d\d):(\d\d(?:\.\d+)?)", text)
    if clock:
        seconds = decimal.Decimal(clock.group(4)) + 60 * int(clock.group(3)) + \
            3600 * int(clock.group(2))
        nanos = int(seconds * 10**9) * (-1 if clock.group(1) else 1)
    return [months, days, str(nanos)]


def blob_hex(text):
    """DuckDB's blob text (printable bytes as is, others as \\xNN) as hex."""
    out = bytearray()
    for escaped, char in re.findall(r"\\x([0-9A-Fa-f]{2})|(.)", text, re.S):
        out += bytes.fromhex(escaped) if escaped else char.encode("latin-1")
    return out.hex()


def expected(value, arrow_type):
    """The JSON answer's value written as arrow_read.cjs writes a cell of `arrow_type`."""
    if value is None:
        return None
    kind = arrow_type.split("<")[0].split("[")[0]
    if kind.startswith("Interval"):
        return interval(value)
    if kind.startswith(("Int", "Uint")):
        return str(value)
    if kind == "Float32":
        return struct.unpack("f", struct.pack("f", float(value)))[0]
    if kind.startswith("Float"):
        return float(value)
    if kind.startswith("Decimal"):
        return decimal.Decimal(str(value))
    if kind.startswith("Date"):
        return (datetime.date.fromisoformat(value) - datetime.date(1970, 1, 1)).days
    if kind.startswith("Time") and not kind.startswith("Timestamp"):
        return str(micros_of_day(value))
    if kind.startswith("Timestamp"):
        return instant(value, re.search(r"(NANO|MICRO|MILLI|)SECOND", arrow_type).group(0))
    if kind in ("Binary", "LargeBinary"):
        return blob_hex(value)
    if kind.startswith("FixedSizeBinary"):
        return value.replace("-", "")
    return value


def compare(answer, arrow, what):
    """Every cell of the Arrow stream against the JSON answer's, column by column."""
    names = [f["name"] for f in arrow["fields"]]
    check(f"{what}: the stream has the JSON answer's columns and row count",
          answer and names == list(answer[0].keys()) and len(arrow["rows"]) == len(answer),
          (names, len(arrow["rows"]), len(answer)))
    for c, field in enumerate(arrow["fields"]):
        got = [row[c] for row in arrow["rows"]]
        if field["type"].startswith("Decimal"):
            got = [None if v is None else decimal.Decimal(v) for v in got]
        want = [expected(row[field["name"]], field["type"]) for row in answer]
        check(f"{what}: column {field['name']} ({field['type']}) equals the JSON answer",
              got == want, (got[:3], want[:3]))


def check_types(port, nora):
    status, _, body = post(port, nora, {"sql": TYPES_SQL, "format": "json"})
    answer = json.loads(body, parse_float=decimal.Decimal) if status == 200 else []
    check("JSON answer for nora", status == 200 and answer, (status, body[:300]))
    status, headers, body = post(port, nora, {"sql": TYPES_SQL, "format": "arrow"})
    check("Arrow answer: 200, application/vnd.apache.arrow.stream, starts with a message",
          status == 200 and headers.get("Content-Type") == "application/vnd.apache.arrow.stream"
          and body[:4] == b"\xff\xff\xff\xff" and body[-8:] == b"\xff\xff\xff\xff\0\0\0\0",
          (status, headers, body[:100]))
    arrow = read_arrow(body)
    compare(answer, arrow, "types")
    emails = [row[2] for row in arrow["rows"]]
    countries = {row[3] for row in arrow["rows"]}
    check("row filter and mask apply to Arrow too: NL only, emails hashed",
          emails and countries == {"NL"} and all(is_hash(e) for e in emails),
          (countries, emails[:3]))
    return body


def check_big(port, nora):
    status, _, body = post(port, nora, {"sql": BIG_SQL, "format": "json"})
    answer = json.loads(body, parse_float=decimal.Decimal) if status == 200 else []
    status, _, body = post(port, nora, {"sql": BIG_SQL, "format": "arrow"})
    arrow = read_arrow(body) if status == 200 else {"fields": [], "rows": [], "batches": 0}
    check("320,000 rows arrive in many record batches (one per chunk)",
          len(arrow["rows"]) == 320000 and arrow["batches"] >= 100,
          (status, len(arrow["rows"]), arrow["batches"]))
    compare(answer, arrow, "320,000 rows")


def check_nested(port, nora):
    """LIST, STRUCT (with a list inside), MAP, ARRAY and a list of lists, read by the real
    reader, hold exactly the values they were built from (the flat columns of the same rows,
    which the JSON answer gives); the masked email inside a struct stays masked."""
    status, _, body = post(port, nora, {"sql": NESTED_SQL, "format": "json"})
    answer = json.loads(body) if status == 200 else []
    status, _, body = post(port, nora, {"sql": NESTED_SQL, "format": "arrow"})
    arrow = read_arrow(body) if status == 200 else {"fields": [], "rows": [], "batches": 0}
    check("nested columns as Arrow: 200 and the JSON answer's rows", status == 200
          and len(arrow["rows"]) == len(answer) > 0, (status, body[:300]))
    names = [f["name"] for f in arrow["fields"]]
    got = [dict(zip(names, row)) for row in arrow["rows"]]
    want = [{"id": str(r["id"]), "email": r["email"], "country": r["country"],
             "ids": [r["id"], None], "info": {"email": r["email"], "tags": [r["country"], None]},
             "by_country": {r["country"]: r["id"]}, "pair": [r["id"], 7],
             "deep": None if r["id"] % 2 == 0 else [[r["id"]]]} for r in answer]
    for name in ("ids", "info", "by_country", "pair", "deep"):
        field = arrow["fields"][names.index(name)] if name in names else {"type": "missing"}
        check(f"nested: column {name} ({field['type']}) holds the values it was built from",
              [g.get(name) for g in got] == [w[name] for w in want],
              ([g.get(name) for g in got][:2], [w[name] for w in want][:2]))
    check("nested: the email inside a struct is masked (hashed) as the flat column is",
          got and all(is_hash(g["info"]["email"]) for g in got), [g.get("info") for g in got][:2])


def check_refusals(port, nora):
    status, _, body = post(port, nora, {"sql": "SELECT customer_id, 'b'::ENUM('a', 'b') AS mood "
                                        "FROM customers.customers.customers", "format": "arrow"})
    error = json.loads(body).get("error", {}) if body.startswith(b"{") else {}
    check("an ENUM column as Arrow is a JSON 400 naming the column",
          status == 400 and "'mood'" in error.get("message", ""), (status, body[:300]))
    status, _, body = post(port, nora, {"sql": "SELECT * FROM read_csv('/etc/passwd')",
                                        "format": "arrow"})
    check("a refused statement as Arrow is a JSON 403", status == 403
          and json.loads(body)["error"]["code"] == "permission_denied", (status, body[:200]))


def main():
    args = mesh_args()
    require("node", "node")
    require(str(NODE_MODULES / "apache-arrow"), "npm apache-arrow")
    with WireMesh(args.plexus, args.mesh) as mesh:
        port, nora = mesh.http_port, mesh.nora_token
        stream = check_types(port, nora)
        check_big(port, nora)
        check_nested(port, nora)
        check_refusals(port, nora)
        with tempfile.NamedTemporaryFile() as f:  # the CLI goes through the running server
            proc = subprocess.run(mesh.base + ["--token", nora, "query", "--format", "arrow",
                                               TYPES_SQL], stdout=f, stderr=subprocess.PIPE,
                                  timeout=120)
            f.seek(0)
            written = f.read()
        check("plexus query --format arrow writes the same stream to stdout",
              proc.returncode == 0 and read_arrow(written) == read_arrow(stream),
              (proc.returncode, proc.stderr[-300:]))
    return summary()


if __name__ == "__main__":
    sys.exit(main())
