#!/usr/bin/env python3
"""A Kafka topic of Debezium change events to a data product, end to end.

tests/cdc/kafka_mock_tool holds librdkafka's mock cluster (real brokers' protocol over TCP on
127.0.0.1) and produces what this script gives it: a two-partition topic, keyed so one key
stays in one partition, as Debezium writes it. Each `plexus run` reads from the offsets it
committed with the data; after each, the product's table equals the state the events describe
(computed here independently). Deletes with their tombstones, events with and without the
schema/payload wrapper, and a new column (flows in; queryable once the bumped contract is
applied).
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
from checks import check, summary  # noqa: E402
import cdc_support  # noqa: E402

PRODUCT_ID = "8d2a6c55-3b1e-4f7a-a0c4-7e5d9b3f2c11"
CONTRACT_ID = "c41f9e27-6d3b-4c58-9a1e-2b7f8d6e5a12"
COLUMNS = [("id", "BIGINT", "integer", True), ("customer", "VARCHAR", "string", False),
           ("amount", "DOUBLE", "number", False)]


def contract(version, columns):
    return cdc_support.contract(CONTRACT_ID, version, columns,
                                "The shop's orders, from the orders topic.")


def write_mesh(mesh, brokers):
    cdc_support.write_mesh(
        mesh, mesh_name="cdc-kafka",
        description="One product fed by a Kafka topic of change events.",
        product_id=PRODUCT_ID, purpose="The shop's orders, from the orders topic.",
        contract_id=CONTRACT_ID, contract_text=contract("1.0.0", COLUMNS),
        cdc=f"      source: kafka\n      brokers: \"{brokers}\"\n      topic: orders\n"
            "      options:\n        group.id: plexus-e2e\n")


class Topic:
    """The mock cluster's tool, and the state its events describe."""

    def __init__(self, tool):
        self.proc = subprocess.Popen([tool, "--topic", "orders", "--partitions", "2"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().split()
        if len(line) != 2 or line[0] != "bootstrap":
            raise RuntimeError(f"kafka_mock_tool did not start: {line}")
        self.bootstrap = line[1]
        self.position = 0
        self.state = {}

    def change(self, op, row, wrap=False):
        self.position += 1
        key = row["id"]
        before = {"id": key} if op in ("u", "d") else None
        event = {"op": op, "before": before, "after": None if op == "d" else row,
                 "source": {"lsn": self.position, "table": "orders"},
                 "ts_ms": 1700000000000 + self.position}
        if wrap:
            event = {"schema": {"type": "struct", "optional": False}, "payload": event}
        self._send({"partition": key % 2, "key": str(key), "value": event})
        if op == "d":
            self.state.pop(key, None)
            self._send({"partition": key % 2, "key": str(key), "value": None})  # tombstone
        else:
            self.state[key] = dict(row)

    def _send(self, message):
        self.proc.stdin.write(json.dumps(message) + "\n")

    def flush(self):
        self.proc.stdin.write("flush\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        if not answer.startswith("flushed"):
            raise RuntimeError(f"kafka_mock_tool: {answer}")

    def expected(self, columns):
        return [[self.state[k].get(c) for c in columns] for k in sorted(self.state)]

    def close(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--plexus", required=True)
    parser.add_argument("--kafka-tool", required=True)
    args = parser.parse_args()
    plexus = str(pathlib.Path(args.plexus).resolve())
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="plexus-cdc-kafka-e2e-"))
    mesh, home = tmp / "mesh", tmp / "home"
    topic = None

    px = cdc_support.plexus_cli(plexus, mesh, home)

    def product_rows(columns):
        return cdc_support.product_rows(px, columns)

    names = [c[0] for c in COLUMNS]
    try:
        topic = Topic(args.kafka_tool)
        for i in range(1, 7):
            topic.change("c", {"id": i, "customer": f"customer {i}", "amount": i * 1.5},
                         wrap=i % 3 == 0)
        topic.flush()
        write_mesh(mesh, topic.bootstrap)
        r = px("apply")
        check("apply accepts the kafka CDC input", r.returncode == 0, r.stdout + r.stderr)
        r = px("run", "sales.orders")
        check("the first run reads the topic from its beginning", r.returncode == 0,
              r.stdout + r.stderr)
        check("the product holds the inserted rows", product_rows(names) == topic.expected(names),
              f"{product_rows(names)} vs {topic.expected(names)}")

        topic.change("u", {"id": 2, "customer": "renamed", "amount": 99.5})
        topic.change("d", {"id": 3})
        topic.change("c", {"id": 7, "customer": None, "amount": None}, wrap=True)
        topic.change("u", {"id": 7, "customer": "filled", "amount": 7.25})
        topic.change("d", {"id": 5})
        topic.change("c", {"id": 5, "customer": "back", "amount": 5.5})
        topic.flush()
        r = px("run", "sales.orders")
        check("a run applies updates, deletes and their tombstones", r.returncode == 0,
              r.stdout + r.stderr)
        check("the product equals the events' state", product_rows(names) == topic.expected(names),
              f"{product_rows(names)} vs {topic.expected(names)}")
        r = px("run", "sales.orders")
        check("a run with nothing new succeeds and repeats nothing",
              r.returncode == 0 and product_rows(names) == topic.expected(names),
              r.stdout + r.stderr)

        # A new column in the events: it flows in; queryable with the bumped contract.
        topic.change("c", {"id": 8, "customer": "noted", "amount": 8.0, "note": "hello"})
        topic.change("u", {"id": 1, "customer": "customer 1", "amount": 1.5, "note": "first"})
        topic.flush()
        r = px("run", "sales.orders")
        check("a run with a new column succeeds", r.returncode == 0, r.stdout + r.stderr)
        check("the rows keep flowing", product_rows(names) == topic.expected(names),
              f"{product_rows(names)} vs {topic.expected(names)}")
        (mesh / "domains/sales/orders/contracts/orders.odcs.yaml").write_text(
            contract("1.1.0", COLUMNS + [("note", "VARCHAR", "string", False)]))
        r = px("apply")
        check("the bumped contract (1.1.0, with note) applies", r.returncode == 0,
              r.stdout + r.stderr)
        topic.change("c", {"id": 9, "customer": "later", "amount": 9.0, "note": "more"})
        topic.flush()
        r = px("run", "sales.orders")
        check("a run after the bump succeeds", r.returncode == 0, r.stdout + r.stderr)
        with_note = names + ["note"]
        check("the new column is in the product", product_rows(with_note) ==
              topic.expected(with_note), f"{product_rows(with_note)} vs "
              f"{topic.expected(with_note)}")

        # kill -9 in the middle of runs (small batches): nothing lost, nothing twice.
        pipeline = mesh / "domains/sales/orders/pipeline.yaml"
        pipeline.write_text(pipeline.read_text() + "schedule:\n  maxBatchEvents: 200\n")
        r = px("apply")
        check("small batches apply", r.returncode == 0, r.stdout + r.stderr)
        for i in range(100, 4100):
            topic.change("c", {"id": i, "customer": f"c{i}", "amount": float(i), "note": None},
                         wrap=i % 2 == 0)
            if i % 4 == 3:
                topic.change("u", {"id": i - 2, "customer": f"u{i}", "amount": 1.0,
                                   "note": "updated"})
            if i % 7 == 6:
                topic.change("d", {"id": i - 5})
        topic.flush()
        killed = cdc_support.kill_runs(
            [plexus, "--mesh", str(mesh), "--home", str(home), "run", "sales.orders"],
            (0.25, 0.4, 0.55, 0.7))
        check("runs were killed mid-way", killed > 0, killed)
        r = px("run", "sales.orders")
        check("a run after the kills succeeds", r.returncode == 0, r.stdout + r.stderr)
        check("after kill -9 the product equals the events' state",
              product_rows(with_note) == topic.expected(with_note),
              f"{len(product_rows(with_note))} vs {len(topic.expected(with_note))} rows")

        # Backfill: both partitions re-read from offset 0; every replayed event is stale.
        r = px("backfill", "sales.orders", "--input", "changes", "--from", "0:0,1:0")
        check("plexus backfill re-reads kafka partitions from an offset", r.returncode == 0 and
              r.stdout.startswith("ok      sales.orders"), r.stdout + r.stderr)
        check("the replay rolls nothing back",
              product_rows(with_note) == topic.expected(with_note),
              f"{len(product_rows(with_note))} vs {len(topic.expected(with_note))} rows")
        r = px("backfill", "sales.orders", "--input", "changes", "--from", "0=5")
        check("a bad kafka position is a clear error", r.returncode != 0 and
              "partition:offset" in r.stdout + r.stderr, r.stdout + r.stderr)
    finally:
        if topic is not None:
            topic.close()
        shutil.rmtree(tmp, ignore_errors=True)
        sys.exit(summary())


if __name__ == "__main__":
    main()
