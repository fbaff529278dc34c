#!/usr/bin/env python3
"""POST /api/v1/query with "format": "parquet": a real Parquet file, the same rows as JSON.

A running `plexus serve` over the example mesh; nora (country=NL, emails hashed for her) asks
for customers as Parquet. The file is read back with DuckDB itself (its C API through ctypes,
from the libduckdb.so Plexus is built with) and must hold exactly the rows the JSON answer
holds: the row filter and the mask apply to Parquet as to every format. Refusals stay JSON
errors, and no exported file is left in the home's temp folder.
"""
import argparse
import ctypes
import json
import os
import pathlib
import sys
import tempfile
import urllib.error
import urllib.request

HERE = pathlib.Path(__file__).resolve()
sys.path.insert(0, str(HERE.parents[1] / "support"))
sys.path.insert(0, str(HERE.parents[1] / "wire"))
from checks import check, summary  # noqa: E402
from wire_mesh import WireMesh, is_hash  # noqa: E402

SQL = ("SELECT customer_id, first_name, email, country FROM customers.customers.customers "
       "ORDER BY customer_id")


def post(port, token, body):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/query", data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def read_parquet(libduckdb, path, sql_columns):
    """The rows of a Parquet file as lists of text (None for NULL), read by DuckDB."""
    lib = ctypes.CDLL(libduckdb)
    lib.duckdb_value_varchar.restype = ctypes.c_void_p
    lib.duckdb_value_is_null.restype = ctypes.c_bool
    lib.duckdb_row_count.restype = ctypes.c_uint64
    lib.duckdb_result_error.restype = ctypes.c_char_p
    db, conn = ctypes.c_void_p(), ctypes.c_void_p()
    result = (ctypes.c_byte * 64)()  # duckdb_result (48 bytes on 64-bit), opaque here
    assert lib.duckdb_open(None, ctypes.byref(db)) == 0
    assert lib.duckdb_connect(db, ctypes.byref(conn)) == 0
    query = f"SELECT {sql_columns} FROM read_parquet('{path}')".encode()
    if lib.duckdb_query(conn, query, ctypes.byref(result)) != 0:
        raise RuntimeError(lib.duckdb_result_error(ctypes.byref(result)))
    rows = []
    ncols = len(sql_columns.split(","))
    for r in range(lib.duckdb_row_count(ctypes.byref(result))):
        row = []
        for c in range(ncols):
            if lib.duckdb_value_is_null(ctypes.byref(result), ctypes.c_uint64(c), ctypes.c_uint64(r)):
                row.append(None)
                continue
            pointer = lib.duckdb_value_varchar(ctypes.byref(result), ctypes.c_uint64(c),
                                               ctypes.c_uint64(r))
            row.append(ctypes.string_at(pointer).decode())
            lib.duckdb_free(ctypes.c_void_p(pointer))
        rows.append(row)
    lib.duckdb_destroy_result(ctypes.byref(result))
    lib.duckdb_disconnect(ctypes.byref(conn))
    lib.duckdb_close(ctypes.byref(db))
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--plexus", required=True)
    parser.add_argument("--mesh", default=str(HERE.parents[2] / "examples" / "jaffle-mesh"))
    parser.add_argument("--libduckdb", required=True)
    args = parser.parse_args()
    with WireMesh(args.plexus, args.mesh) as mesh:
        port, nora = mesh.http_port, mesh.nora_token
        status, _, body = post(port, nora, {"sql": SQL, "format": "json"})
        as_json = json.loads(body) if status == 200 else None
        check("JSON answer for nora", status == 200 and as_json, (status, body[:200]))
        status, headers, body = post(port, nora, {"sql": SQL, "format": "parquet"})
        check("Parquet answer: 200, application/vnd.apache.parquet, PAR1 magic at both ends",
              status == 200 and headers.get("Content-Type") == "application/vnd.apache.parquet"
              and body[:4] == b"PAR1" and body[-4:] == b"PAR1", (status, headers, body[:100]))
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "nora.parquet")
            pathlib.Path(path).write_bytes(body)
            rows = read_parquet(args.libduckdb, path, "customer_id, first_name, email, country")
        expected = [[str(r["customer_id"]), r["first_name"], r["email"], r["country"]]
                    for r in as_json or []]
        check("the Parquet file holds the JSON answer's rows, in order", rows == expected,
              (rows[:3], expected[:3]))
        check("row filter and mask apply to Parquet too: NL only, emails hashed",
              rows and all(r[3] == "NL" and is_hash(r[2]) for r in rows), rows[:3])
        check("X-Plexus-Rows says how many rows", headers.get("X-Plexus-Rows") == str(len(rows)),
              headers.get("X-Plexus-Rows"))
        status, _, body = post(port, nora, {"sql": "SELECT * FROM read_csv('/etc/passwd')",
                                            "format": "parquet"})
        check("a refused statement as Parquet is a JSON 403", status == 403
              and json.loads(body)["error"]["code"] == "permission_denied", (status, body[:200]))
        status, _, body = post(port, nora, {"sql": "SELECT CAST(first_name AS INTEGER) AS x "
                                            "FROM customers.customers.customers",
                                            "format": "parquet"})
        check("an engine error as Parquet is a JSON 4xx", 400 <= status < 500, (status, body[:200]))
        leftovers = list(pathlib.Path(mesh.home, "tmp").glob("export-*"))
        check("no exported file is left in the home's temp folder", not leftovers, leftovers)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
