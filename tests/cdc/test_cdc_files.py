#!/usr/bin/env python3
"""CDC from change files and from `plexus ingest`, end to end, through the real binary.

A files CDC input: change files written into the product's folder; `plexus run` catches up and
`plexus query` shows the state (inserts, updates, deletes, out-of-order positions); a run with
nothing new changes nothing; a file whose bad events exceed max_error_rate pauses the pipeline
(the run says so, the last good data stays, the pause survives the next run); a full refresh
rebuilds from the files; `plexus backfill --from FILE` re-reads a file whose dead-lettered
event was fixed: that event is applied, later data is not rolled back, and the run is recorded
with the trigger "backfill". Progress: nothing on stderr when it is not a terminal, an updating
line that is cleared at the end when it is (a pty). An http CDC input: `plexus ingest` applies an
NDJSON file (and stdin), dead-letters bad events, and keeps a new source column, which the next
`plexus run` lists as a proposed contract bump.
"""
import argparse
import json
import os
import pathlib
import pty
import random
import select
import shutil
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "support"))
sys.path.insert(0, str(HERE))
from checks import check, summary  # noqa: E402
from test_cdc_kill import CONTRACT_ID, PRODUCT_ID, write_mesh  # noqa: E402
import cdc_support  # noqa: E402


def event(op, key, customer, amount, lsn, **extra):
    row = {"id": key, "customer": customer, "amount": amount, **extra}
    return json.dumps({"op": op, "before": None if op == "c" else {"id": key},
                       "after": None if op == "d" else row, "source": {"lsn": lsn},
                       "ts_ms": 1700000000000 + lsn})


def run_on_pty(argv):
    """Runs argv with stderr on a pseudo-terminal: (exit code, stdout, what the terminal got)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=slave, text=False)
    os.close(slave)
    got = b""
    while True:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed the terminal
                chunk = b""
            if not chunk and proc.poll() is not None:
                break
            got += chunk
        elif proc.poll() is not None:
            break
    out = proc.stdout.read().decode()
    proc.wait(timeout=60)
    os.close(master)
    return proc.returncode, out, got.decode(errors="replace")


def backfill(px, rows, changes, plexus, mesh, home):
    """A dead-lettered event fixed in its file, then backfilled; later data stays."""
    before = rows()
    good = [event("c", k, "n", k, 100 + k) for k in range(100, 140)]
    (changes / "004.ndjson").write_text("\n".join(
        good[:20] + [event("c", 5, "eve", "not a number", 300), event("u", 1, "older", 2, 301)]
        + good[20:]) + "\n")
    r = px("run", "sales.orders")
    check("a run with one bad event in 42 dead-letters it and applies the rest",
          r.returncode == 0 and len(rows()) == len(before) + 40 and
          [1, "older", 2] in rows() and not any(x[0] == 5 for x in rows()) and
          "changes: 42 events read, 41 upserted, 0 deleted, 0 stale, 1 dead-lettered" in r.stdout,
          r.stdout + r.stderr + str(rows()))
    check("a run on a pipe writes nothing to stderr (no progress line)",
          r.stderr == "" and "\r" not in r.stdout and "\033" not in r.stdout, repr(r.stderr))
    (changes / "005.ndjson").write_text(event("u", 1, "newest", 3, 400) + "\n")
    code, out, terminal = run_on_pty([plexus, "--mesh", str(mesh), "--home", str(home),
                                      "run", "sales.orders"])
    check("on a terminal, plexus run draws a progress line with the events applied, then "
          "clears it", code == 0 and "running sales.orders" in terminal and
          "1 events applied" in terminal and terminal.endswith("\r\033[K") and
          "ok      sales.orders" in out, repr(terminal) + out)
    # The bad event fixed in its file: a backfill from that file applies it, and the replayed
    # update of key 1 (position 301) is stale against position 400.
    text = (changes / "004.ndjson").read_text().replace('"not a number"', "50")
    (changes / "004.ndjson").write_text(text)
    r = px("backfill", "sales.orders", "--input", "changes", "--from", "004.ndjson")
    got = rows()
    check("plexus backfill applies the fixed event", r.returncode == 0 and
          [5, "eve", 50] in got, r.stdout + r.stderr + str(got))
    check("a backfill never rolls data back", [1, "newest", 3] in got and
          len(got) == len(before) + 41, got)
    r = px("runs", "sales.orders", "--format", "json", "--limit", "1")
    check("the backfill's run has the trigger backfill", r.returncode == 0 and
          json.loads(r.stdout)[0]["trigger"] == "backfill", r.stdout + r.stderr)
    r = px("backfill", "sales.orders", "--input", "changes", "--from", "009.ndjson")
    check("a backfill from a file that is not there is a clear error",
          r.returncode != 0 and "no file 009.ndjson" in r.stdout + r.stderr, r.stdout + r.stderr)
    r = px("backfill", "sales.orders", "--input", "changes", "--from", "../x")
    check("--from takes a file name, not a path", r.returncode != 0 and
          "no path" in r.stdout + r.stderr, r.stdout + r.stderr)


STEPS = """    steps:
      - filter: "status <> 'void'"
      - rename: {order_no: id, buyer: customer}
      - cast: {amount: "DECIMAL(10,2)"}
      - hash: [email]
      - project: [id, customer, amount, email]
"""


def processor_steps(plexus, tmp):
    """A CDC product whose output renames, casts, hashes, filters and projects the source's row
    images: its table equals the state computed here from the events."""
    mesh, home = tmp / "steps" / "mesh", tmp / "steps" / "home"
    mesh.mkdir(parents=True)
    px = cdc_support.plexus_cli(plexus, mesh, home)
    columns = [("id", "BIGINT", "integer", True), ("customer", "VARCHAR", "string", False),
               ("amount", "DECIMAL(10,2)", "number", False), ("email", "VARCHAR", "string",
                                                               False)]
    product = cdc_support.write_mesh(
        mesh, mesh_name="cdc-steps", description="Steps on a change stream.",
        product_id=PRODUCT_ID, purpose="The shop's orders, renamed and hashed.",
        contract_id=CONTRACT_ID,
        contract_text=cdc_support.contract(CONTRACT_ID, "1.0.0", columns, "The orders."),
        cdc="      source: files\n      folder: changes\n")
    pipeline = product / "pipeline.yaml"
    pipeline.write_text(pipeline.read_text() + STEPS)
    (product / "changes").mkdir()
    rng = random.Random(3)
    events, live = [], {}
    for lsn in range(1, 601):
        key = rng.randint(1, 80)
        row = {"order_no": key, "buyer": f"b{rng.randint(1, 999)}",
               "amount": f"{rng.randint(0, 99999) / 100}", "email": f"u{key % 7}@example.org",
               "status": rng.choice(["open", "open", "open", "void"])}
        op = "c" if key not in live else ("d" if rng.random() < 0.2 else "u")
        before = {"order_no": key} if op != "c" else None
        live.pop(key, None) if op == "d" else live.__setitem__(key, row)
        events.append({"op": op, "before": before, "after": None if op == "d" else row,
                       "source": {"lsn": lsn}, "ts_ms": 1700000000000 + lsn})
    for i in range(0, len(events) - 1, 9):  # some out of order
        events[i], events[i + 1] = events[i + 1], events[i]
    for n, part in enumerate([events[:250], events[250:]]):
        (product / "changes" / f"{n:03d}.ndjson").write_text(
            "".join(json.dumps(e) + "\n" for e in part))
    r = px("apply")
    check("apply accepts row-wise steps on a CDC output", r.returncode == 0, r.stdout + r.stderr)
    r = px("run", "sales.orders")
    check("plexus run applies the change stream through the steps",
          r.returncode == 0 and "ok" in r.stdout, r.stdout + r.stderr)
    latest = {}
    for e in events:
        key = (e["after"] or e["before"])["order_no"]
        if key not in latest or e["source"]["lsn"] > latest[key]["source"]["lsn"]:
            latest[key] = e
    want = [[k, e["after"]["buyer"], f"{float(e['after']['amount']):.2f}"]
            for k, e in sorted(latest.items())
            if e["op"] != "d" and e["after"]["status"] != "void"]
    got = cdc_support.product_rows(px, ["id", "customer", "amount"],
                                   lambda v: f"{float(v):.2f}" if isinstance(v, (float, str))
                                   and str(v).replace(".", "").isdigit() else v)
    check(f"the table equals the state computed from the {len(events)} events "
          f"({len(want)} rows: renamed, cast, void ones filtered out)", got == want,
          f"{len(got)} rows vs {len(want)}; first differences: "
          f"{[(a, b) for a, b in zip(got, want) if a != b][:3]}" if isinstance(got, list) else got)
    emails = cdc_support.product_rows(px, ["id", "email"])
    hashed = isinstance(emails, list) and all(
        len(h) == 64 and "@" not in h for _, h in emails)
    same = isinstance(emails, list) and len({(k % 7, h) for k, h in emails}) == len(
        {k % 7 for k, _ in emails}) == len({h for _, h in emails})
    check("the email is hashed: hex SHA-256, equal for equal addresses", hashed and same, emails)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--plexus", required=True)
    plexus = str(pathlib.Path(parser.parse_args().plexus).resolve())
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="plexus-cdc-files-"))
    try:
        # ---- files ----
        mesh, home = tmp / "files" / "mesh", tmp / "files" / "home"
        mesh.mkdir(parents=True)

        def px(*a, stdin=None):
            return subprocess.run([plexus, "--mesh", str(mesh), "--home", str(home), *a],
                                  capture_output=True, text=True, timeout=120, input=stdin)

        def rows():
            r = px("query", "--format", "json",
                   "SELECT id, customer, amount FROM sales.orders.orders ORDER BY id")
            if r.returncode != 0:
                return r.stdout + r.stderr
            return [[x["id"], x["customer"], x["amount"]] for x in json.loads(r.stdout)]

        changes = write_mesh(mesh) / "changes"
        r = px("apply")
        check("apply accepts a files CDC input", r.returncode == 0, r.stdout + r.stderr)
        (changes / "001.ndjson").write_text("\n".join([
            event("c", 1, "ann", 10, 1), event("c", 2, "bob", 20, 2), event("c", 3, "cid", 30, 3),
            event("u", 2, "bob", 25, 5), event("u", 2, "bobby", 22, 4)]) + "\n")
        (changes / "002.ndjson").write_text("\n".join([
            event("d", 3, "", 0, 6), event("u", 3, "late", 1, 5), event("u", 1, "ann", 11, 7)])
            + "\n" + event("c", 4, "partial", 4, 8))  # no newline: waits
        r = px("run", "sales.orders")
        check("plexus run catches up", r.returncode == 0 and "ok" in r.stdout, r.stdout + r.stderr)
        check("plexus run says what the catch-up applied",
              "changes: 8 events read, " in r.stdout and " 0 dead-lettered" in r.stdout, r.stdout)
        check("the table holds the latest row per key by position, without deleted ones",
              rows() == [[1, "ann", 11], [2, "bob", 25]], rows())
        r = px("run", "sales.orders")
        check("a run with nothing new changes nothing", r.returncode == 0 and
              rows() == [[1, "ann", 11], [2, "bob", 25]] and
              "changes: 0 events read, 0 upserted, 0 deleted" in r.stdout, r.stdout + r.stderr)
        with open(changes / "002.ndjson", "a") as f:
            f.write("\n")
        px("run", "sales.orders")
        check("a partial last line is applied once complete",
              rows() == [[1, "ann", 11], [2, "bob", 25], [4, "partial", 4]], rows())

        (changes / "003.ndjson").write_text("\n".join([
            event("u", 1, "lost", 0, 9), "{not json", "{\"op\": \"x\"}"]) + "\n")
        r = px("run", "sales.orders")
        said = r.stdout + r.stderr
        check("bad events above maxErrorRate fail the run as paused",
              r.returncode != 0 and "paused" in said and "2 of 3 events" in said, said)
        check("the last good data is still served",
              rows() == [[1, "ann", 11], [2, "bob", 25], [4, "partial", 4]], rows())
        r = px("run", "sales.orders")
        check("the pause survives the next run", r.returncode != 0 and "paused" in r.stdout,
              r.stdout + r.stderr)
        (changes / "003.ndjson").unlink()
        (changes / "003.ndjson").write_text(event("u", 1, "fixed", 1, 9) + "\n")
        r = px("run", "sales.orders", "--full-refresh")
        check("a full refresh resumes and rebuilds from the files", r.returncode == 0 and
              rows() == [[1, "fixed", 1], [2, "bob", 25], [4, "partial", 4]],
              r.stdout + r.stderr + str(rows()))

        # ---- backfill ----
        if r.returncode == 0:
            backfill(px, rows, changes, plexus, mesh, home)

        # ---- processor steps ----
        processor_steps(plexus, tmp)

        # ---- http + plexus ingest ----
        mesh, home = tmp / "http" / "mesh", tmp / "http" / "home"
        mesh.mkdir(parents=True)
        write_mesh(mesh, source="http")
        r = px("apply")
        check("apply accepts an http CDC input", r.returncode == 0, r.stdout + r.stderr)
        batch = tmp / "batch.ndjson"
        batch.write_text("\n".join([event("c", 1, "ann", 1, 1), event("c", 2, "bob", 2, 2),
                                    event("d", 2, "", 0, 3)] + [event("c", k, "x", k, 3 + k)
                                                                for k in range(10, 40)]) + "\n")
        r = px("ingest", "sales.orders", "--input", "changes", str(batch))
        check("plexus ingest applies a file", r.returncode == 0 and
              "ingested 33 events" in r.stdout and "1 deleted" in r.stdout, r.stdout + r.stderr)
        got = rows()
        check("the pushed state is queryable", isinstance(got, list) and len(got) == 31 and
              got[0] == [1, "ann", 1], got)
        r = px("ingest", "sales.orders", "--input", "changes", "-",
               stdin=event("u", 1, "vip ann", 5, 100, vip=True) + "\n" + "\n".join(
                   event("u", k, "y", k, 100 + k) for k in range(10, 40)) + "\n{broken\n")
        check("plexus ingest reads stdin, dead-letters a bad event and keeps a new column",
              r.returncode == 0 and "1 dead-lettered" in r.stdout and "vip BOOLEAN" in r.stdout,
              r.stdout + r.stderr)
        r = px("runs", "sales.orders", "--format", "json")
        triggers = [x["trigger"] for x in json.loads(r.stdout)] if r.returncode == 0 else r.stderr
        check("pushed batches are recorded with the trigger push",
              isinstance(triggers, list) and triggers[:2] == ["push", "push"], triggers)
        r = px("run", "sales.orders")
        check("plexus run lists the contract bump the new column proposed",
              r.returncode == 0 and "proposed: orders.orders contract 1.1.0: new column vip "
              "BOOLEAN (kept in the table" in r.stdout, r.stdout + r.stderr)
        r = px("ingest", "sales.orders", "--input", "nope", str(batch))
        check("an unknown input is a clear error", r.returncode != 0 and "nope" in r.stderr,
              r.stdout + r.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        sys.exit(summary())


if __name__ == "__main__":
    main()
