#!/usr/bin/env python3
"""PostgreSQL to a data product through logical decoding (wal2json), end to end.

A real PostgreSQL 15 server started here on 127.0.0.1; a mesh whose product's pipeline has one
postgres CDC input and a contract with a primary key. `plexus run` snapshots the table, then
each run applies the inserts, updates and deletes made at the source since the last; after
each, the product's table equals the source table. A column added at the source flows in (the
contract's minor bump is proposed); once the bumped contract is applied, it is queryable. A
server without wal_level = logical is a clear failure of the run.
"""
import argparse
import json
import pathlib
import shutil
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "support"))
sys.path.insert(0, str(HERE))
from checks import check, summary  # noqa: E402
import cdc_support  # noqa: E402
from pg_server import PgServer  # noqa: E402

PRODUCT_ID = "6f7c1f62-4a52-4a39-9d7e-2f0f6c1d9a01"
CONTRACT_ID = "0b6e0f43-7f0c-4a8e-bd2c-5e3f6c0a1b02"

COLUMNS = [  # name, physicalType, logicalType, primary key
    ("id", "BIGINT", "integer", True),
    ("customer", "VARCHAR", "string", False),
    ("amount", "DECIMAL(10,2)", "number", False),
    ("paid", "BOOLEAN", "boolean", False),
    ("placed_at", "TIMESTAMP", "timestamp", False),
]


def contract(version, columns):
    return cdc_support.contract(CONTRACT_ID, version, columns,
                                "The shop's orders, kept equal to the operational database.")


def write_mesh(mesh, dsn, table="public.orders"):
    return cdc_support.write_mesh(
        mesh, mesh_name="cdc-pg", description="One product fed by PostgreSQL's change stream.",
        product_id=PRODUCT_ID,
        purpose="The shop's orders, from the order database's change stream.",
        contract_id=CONTRACT_ID, contract_text=contract("1.0.0", COLUMNS),
        cdc=f"      source: postgres\n      dsn: \"{dsn}\"\n      table: {table}\n"
            "      slot: plexus_e2e_orders\n")


def normalize(value):
    """A value as text both sides agree on (numbers, booleans, timestamps)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "t" if value else "f"
    if value in ("true", "false"):
        return value[0]
    text = str(value).replace("T", " ")
    try:
        return f"{float(text):.2f}"
    except ValueError:
        return text


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--plexus", required=True)
    plexus = str(pathlib.Path(parser.parse_args().plexus).resolve())
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="plexus-cdc-pg-e2e-"))
    mesh, home = tmp / "mesh", tmp / "home"

    px = cdc_support.plexus_cli(plexus, mesh, home)

    def product_rows(columns):
        return cdc_support.product_rows(px, columns, normalize)

    def source_rows(pg, columns):
        out = pg.sql(f"SELECT {', '.join(columns)} FROM orders ORDER BY id")
        return [[normalize(v) for v in line.split("|")] for line in out.splitlines() if line]

    names = [c[0] for c in COLUMNS]
    try:
        with PgServer() as pg:
            pg.sql("CREATE TABLE orders (id bigint PRIMARY KEY, customer text, "
                   "amount numeric(10,2), paid boolean, placed_at timestamp)")
            pg.sql("INSERT INTO orders SELECT i, 'customer ' || i, i * 10.5, i % 2 = 0, "
                   "TIMESTAMP '2024-01-01 08:00' + i * INTERVAL '1 hour' "
                   "FROM generate_series(1, 5) i")
            write_mesh(mesh, pg.dsn)
            r = px("apply")
            check("apply accepts the postgres CDC input", r.returncode == 0, r.stdout + r.stderr)
            r = px("run", "sales.orders")
            check("the first run snapshots the table", r.returncode == 0, r.stdout + r.stderr)
            check("after the snapshot, the product equals the source",
                  product_rows(names) == source_rows(pg, names),
                  f"{product_rows(names)} vs {source_rows(pg, names)}")
            slot = pg.sql("SELECT plugin FROM pg_replication_slots WHERE slot_name = "
                          "'plexus_e2e_orders'").strip()
            check("the replication slot is a wal2json slot", slot == "wal2json", slot)

            pg.sql("INSERT INTO orders VALUES (6, 'new', 1.25, true, '2024-02-01 00:00'), "
                   "(7, NULL, NULL, NULL, NULL)")
            pg.sql("UPDATE orders SET customer = 'renamed', amount = 99.99 WHERE id = 2")
            pg.sql("DELETE FROM orders WHERE id IN (3, 7)")
            pg.sql("BEGIN; UPDATE orders SET paid = NOT paid WHERE id = 1; "
                   "UPDATE orders SET paid = NOT paid WHERE id = 1; "
                   "UPDATE orders SET amount = 0 WHERE id = 4; COMMIT")
            r = px("run", "sales.orders")
            check("a run applies inserts, updates and deletes", r.returncode == 0,
                  r.stdout + r.stderr)
            check("the product equals the source after the changes",
                  product_rows(names) == source_rows(pg, names),
                  f"{product_rows(names)} vs {source_rows(pg, names)}")
            r = px("run", "sales.orders")
            check("a run with nothing new succeeds", r.returncode == 0, r.stdout + r.stderr)
            check("and repeats nothing", product_rows(names) == source_rows(pg, names))
            confirmed = pg.sql("SELECT confirmed_flush_lsn >= (SELECT max(lsn) FROM "
                               "pg_logical_slot_peek_changes('plexus_e2e_orders', NULL, NULL, "
                               "'format-version', '2')) IS NOT FALSE FROM pg_replication_slots "
                               "WHERE slot_name = 'plexus_e2e_orders'").strip()
            check("the slot is released up to what was applied", confirmed == "t", confirmed)

            # A new column at the source: it flows in, and the contract bump is proposed.
            pg.sql("ALTER TABLE orders ADD COLUMN note text")
            pg.sql("INSERT INTO orders VALUES (8, 'with note', 5, false, '2024-03-01', 'hello')")
            pg.sql("UPDATE orders SET note = 'updated' WHERE id = 1")
            r = px("run", "sales.orders")
            said = r.stdout + r.stderr
            check("a run after ADD COLUMN succeeds", r.returncode == 0, said)
            check("the rows keep flowing", product_rows(names) == source_rows(pg, names),
                  f"{product_rows(names)} vs {source_rows(pg, names)}")
            product = mesh / "domains/sales/orders"
            (product / "contracts/orders.odcs.yaml").write_text(
                contract("1.1.0", COLUMNS + [("note", "VARCHAR", "string", False)]))
            r = px("apply")
            check("the bumped contract (1.1.0, with note) applies", r.returncode == 0,
                  r.stdout + r.stderr)
            pg.sql("INSERT INTO orders VALUES (9, 'after bump', 7, true, '2024-04-01', 'more')")
            r = px("run", "sales.orders")
            check("a run after the bump succeeds", r.returncode == 0, r.stdout + r.stderr)
            with_note = names + ["note"]
            check("the new column is in the product, equal to the source",
                  product_rows(with_note) == source_rows(pg, with_note),
                  f"{product_rows(with_note)} vs {source_rows(pg, with_note)}")

            # kill -9 in the middle of runs (small batches, many transactions): nothing lost,
            # nothing twice, once a run completes.
            pipeline = product / "pipeline.yaml"
            pipeline.write_text(pipeline.read_text() + "schedule:\n  maxBatchEvents: 300\n")
            r = px("apply")
            check("small batches apply", r.returncode == 0, r.stdout + r.stderr)
            script = pathlib.Path(pg.dir) / "changes.sql"
            statements = []
            for t in range(600):
                base = 1000 + t * 10
                statements.append(
                    f"INSERT INTO orders SELECT i, 'c' || i, i, i % 2 = 0, '2024-05-01', "
                    f"'n' || i FROM generate_series({base}, {base + 9}) i;")
                if t % 3 == 2:
                    statements.append(f"UPDATE orders SET amount = amount + 1, note = 'u{t}' "
                                      f"WHERE id BETWEEN {base - 20} AND {base - 15};")
                if t % 5 == 4:
                    statements.append(f"DELETE FROM orders WHERE id BETWEEN {base - 40} "
                                      f"AND {base - 38};")
            script.write_text("\n".join(statements) + "\n")
            subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", pg.dsn, "-f",
                            str(script)], check=True, capture_output=True, timeout=60)
            killed = cdc_support.kill_runs(
                [plexus, "--mesh", str(mesh), "--home", str(home), "run", "sales.orders"],
                (0.15, 0.3, 0.45, 0.6))
            check("runs were killed mid-way", killed > 0, killed)
            r = px("run", "sales.orders")
            check("a run after the kills succeeds", r.returncode == 0, r.stdout + r.stderr)
            check("after kill -9 the product equals the source",
                  product_rows(with_note) == source_rows(pg, with_note),
                  f"{len(product_rows(with_note))} vs {len(source_rows(pg, with_note))} rows")
            r = px("backfill", "sales.orders", "--input", "changes", "--from", "0/0")
            check("a postgres input cannot be backfilled: use --full-refresh",
                  r.returncode != 0 and "--full-refresh" in r.stdout + r.stderr,
                  r.stdout + r.stderr)

        # A server without logical decoding: the run fails and says why.
        with PgServer(wal_level="replica") as plain:
            plain.sql("CREATE TABLE orders (id bigint PRIMARY KEY)")
            shutil.rmtree(mesh)
            shutil.rmtree(home, ignore_errors=True)
            write_mesh(mesh, plain.dsn)
            r = px("apply")
            r = px("run", "sales.orders") if r.returncode == 0 else r
            said = r.stdout + r.stderr
            check("wal_level = replica: the run fails", r.returncode != 0, said)
            check("and names wal_level = logical", "wal_level = logical" in said, said)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        sys.exit(summary())


if __name__ == "__main__":
    main()
