#!/usr/bin/env python3
"""The CDC acceptance test: kill -9 at random moments, and the table still equals the source.

A mesh whose product has one files CDC input. Each cycle, a generator appends a deterministic
stream of change events (inserts, updates, deletes; some out of order by position, some late
across files; lines written in pieces, so a reader can meet a partial last line) to the change
folder while `plexus run` applies it; the run is killed with SIGKILL at a random moment. Then
the cycle's remaining events are written, `plexus run` catches up, and the product's table must
equal the state computed here, independently, from every event written so far: per key, the
event with the highest position wins; a delete removes the row. The runs also compact the
table and its key state (more than 1,000 deleted rows, over half of the stored ones), so kills
meet compactions too.

    test_cdc_kill.py --plexus build/plexus [--cycles 30] [--seed 7]
"""
import argparse
import json
import os
import pathlib
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "support"))
from checks import check, summary  # noqa: E402
import cdc_support  # noqa: E402

PRODUCT_ID = "2c1d7c55-3e8e-4d0a-9a57-1f4f7b0c0a11"
CONTRACT_ID = "9a3f1e20-6b1c-4f7e-8d2a-0c5b6e7f8a12"


COLUMNS = [("id", "BIGINT", "integer", True), ("customer", "VARCHAR", "string", False),
           ("amount", "BIGINT", "integer", False)]


def write_mesh(mesh, source="files"):
    """A one-product mesh: sales.orders, fed by the CDC input `changes`."""
    cdc = ("      source: files\n      folder: changes\n      pattern: \"*.ndjson\"\n"
           if source == "files" else "      source: http\n")
    product = cdc_support.write_mesh(
        mesh, mesh_name="cdc-kill", description="One product fed by change files.",
        product_id=PRODUCT_ID, purpose="The shop's orders, from change files.",
        contract_id=CONTRACT_ID,
        contract_text=cdc_support.contract(CONTRACT_ID, "1.0.0", COLUMNS,
                                           "The orders, kept equal to the change stream."),
        cdc=cdc)
    (product / "changes").mkdir()
    if source == "files":
        # Runs of several batches: a kill can also meet the next batch being read ahead.
        pipeline = product / "pipeline.yaml"
        pipeline.write_text(pipeline.read_text() + "schedule:\n  maxBatchEvents: 200\n")
    return product


class Stream:
    """The generator: events in position order, written with some shuffled, some late."""

    def __init__(self, seed, keys=300):
        self.rng = random.Random(seed)
        self.keys = keys
        self.position = 0
        self.live = {}  # the generator's own view, in position order (to choose c/u/d)
        self.late = []  # events held back to a later file

    def events(self, n):
        out = []
        for _ in range(n):
            self.position += 1
            key = self.rng.randint(1, self.keys)
            row = {"id": key, "customer": f"c{self.rng.randint(1, 99999)}",
                   "amount": self.rng.randint(-1000, 1000)}
            if key not in self.live:
                op, before, after = "c", None, row
                self.live[key] = row
            elif self.rng.random() < 0.25:
                op, before, after = "d", self.live.pop(key), None
            else:
                op, before, after = "u", self.live[key], row
                self.live[key] = row
            out.append({"op": op, "before": before, "after": after,
                        "source": {"lsn": self.position}, "ts_ms": 1700000000000 + self.position})
        # Out of order: swap some neighbours; hold a few back to a later file.
        for i in range(len(out) - 1):
            if self.rng.random() < 0.1:
                out[i], out[i + 1] = out[i + 1], out[i]
        released, self.late = self.late, []
        kept = []
        for e in out:
            (self.late if self.rng.random() < 0.03 else kept).append(e)
        return released + kept


def expected_state(events):
    """Per key, the event with the highest position; deletes remove the row."""
    latest = {}
    for e in events:
        row = e["after"] or e["before"]
        key = row["id"]
        if key not in latest or e["source"]["lsn"] > latest[key]["source"]["lsn"]:
            latest[key] = e
    state = []
    for key in sorted(latest):
        e = latest[key]
        if e["op"] != "d":
            state.append([key, e["after"]["customer"], e["after"]["amount"]])
    return state


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--plexus", required=True)
    parser.add_argument("--cycles", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    plexus = str(pathlib.Path(args.plexus).resolve())
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="plexus-cdc-kill-"))
    mesh, home = tmp / "mesh", tmp / "home"
    base = [plexus, "--mesh", str(mesh), "--home", str(home)]

    def px(*a):
        return subprocess.run([*base, *a], capture_output=True, text=True, timeout=120)

    def table():
        r = px("query", "--format", "json",
               "SELECT id, customer, amount FROM sales.orders.orders ORDER BY id")
        if r.returncode != 0:
            return r.stdout + r.stderr
        return [[row["id"], row["customer"], row["amount"]] for row in json.loads(r.stdout)]

    rng = random.Random(args.seed)
    pause = random.Random(args.seed + 1)  # the writer thread's own
    stream = Stream(args.seed)
    written = []
    try:
        product = write_mesh(mesh)
        changes = product / "changes"
        r = px("apply")
        check("apply accepts the files CDC input", r.returncode == 0, r.stdout + r.stderr)
        r = px("run", "sales.orders")
        check("a run with no change files yet succeeds", r.returncode == 0, r.stdout + r.stderr)
        failures = 0
        kills = 0
        compacted = 0  # deleted rows the catch-up runs compacted away (docs/cdc.md)
        start = time.time()
        for cycle in range(args.cycles):
            events = stream.events(rng.randint(50, 1500))
            lines = "".join(json.dumps(e) + "\n" for e in events)
            path = changes / f"{cycle:06d}.ndjson"
            # Write the file in pieces (cut anywhere, a line too) while plexus runs.
            cuts = sorted(rng.sample(range(1, len(lines)), min(6, len(lines) - 1)))
            pieces = [lines[a:b] for a, b in zip([0] + cuts, cuts + [len(lines)])]
            half = len(pieces) // 2

            def writer(chunks):
                with open(path, "a") as f:
                    for chunk in chunks:
                        f.write(chunk)
                        f.flush()
                        time.sleep(pause.random() * 0.02)

            w = threading.Thread(target=writer, args=(pieces[:half],))
            w.start()
            run = subprocess.Popen([*base, "run", "sales.orders"], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
            time.sleep(rng.random() * 0.4)
            if run.poll() is None:
                os.kill(run.pid, signal.SIGKILL)
                kills += 1
            run.wait()
            w.join()
            writer(pieces[half:])
            written.extend(events)
            r = px("run", "sales.orders")
            found = re.search(r"(\d+) deleted rows compacted", r.stdout)
            compacted += int(found.group(1)) if found else 0
            if r.returncode != 0:
                failures += 1
                check(f"cycle {cycle}: the run after the kill succeeds", False, r.stdout + r.stderr)
                break
            got, want = table(), expected_state(written)
            if got != want:
                failures += 1
                detail = got if isinstance(got, str) else (
                    f"{len(got)} rows vs {len(want)} expected; first differences: "
                    f"{[(a, b) for a, b in zip(got, want) if a != b][:3]}")
                check(f"cycle {cycle}: the table equals the expected state", False, detail)
                break
        check(f"after {args.cycles} cycles ({kills} runs killed mid-way, "
              f"{len(written)} events, {time.time() - start:.0f}s) the table equalled the "
              f"expected state each time", failures == 0)
        # Killed runs compact too (a kill can meet one); the catch-ups must have some.
        check(f"the runs compacted deleted rows away ({compacted} in the catch-ups)",
              compacted > 0 or args.cycles < 10)
        held = stream.late
        if held:  # the held-back events: the stream's end
            lines = "".join(json.dumps(e) + "\n" for e in held)
            (changes / "999999.ndjson").write_text(lines)
            written.extend(held)
            r = px("run", "sales.orders")
            check("the late events at the end apply", r.returncode == 0 and
                  table() == expected_state(written), r.stdout + r.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        sys.exit(summary())


if __name__ == "__main__":
    main()
