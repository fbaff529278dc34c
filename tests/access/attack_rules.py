"""What the attack suite judges by: the names nora attacks, what she must never see, and the
rule an answer is held to (the same for every door).

    why = judge(answer, masked_view, secrets)   # '' when acceptable, else why not

expect: REFUSED (must be refused), SAFE (refused, or answered with nothing forbidden), a
(REFUSED, text the refusal must say), (SAFE, function: refused, or answered with rows the
function accepts), or a function of (rows, secrets) -> bool: must be
answered, and the rows must satisfy it. Every answer is also checked by Secrets.leaks.
"""
import csv
import hashlib
import os
import re
import sqlite3

from checks import check

CUST = "customers.customers.customers"
CLV = "marketing.customer_lifetime_value.customer_lifetime_value"
PHYS = "plx_customers.main.customers__customers__v1"


# --- what nora must never see -------------------------------------------------------------------

class Secrets:
    """The seed file and the home's salt: what an answer is checked against."""

    def __init__(self, mesh, home):
        path = os.path.join(mesh, "domains/customers/customers/data/customers.csv")
        with open(path, newline="") as f:
            self.rows = list(csv.DictReader(f))
        self.emails = sorted({r["email"].lower() for r in self.rows if r["email"]})
        self.nl_ids = {int(r["id"]) for r in self.rows if r["country"] == "NL"}
        nl_names = {r["first_name"] for r in self.rows if r["country"] == "NL"}
        self.hidden_names = sorted({r["first_name"] for r in self.rows
                                    if r["country"] != "NL"} - nl_names)
        self.hidden_ids = sorted({int(r["id"]) for r in self.rows} - self.nl_ids)
        db = sqlite3.connect(os.path.join(home, "catalog.db"))
        self.salt = db.execute("SELECT value FROM settings WHERE key = 'mask_salt'").fetchone()[0]
        db.close()
        self.masked = {int(r["id"]): hashlib.sha256((self.salt + r["email"].lower()).encode())
                       .hexdigest() for r in self.rows if r["email"]}
        self.nl_masked = {self.masked[i] for i in self.nl_ids if i in self.masked}
        self.home = os.path.realpath(home)

    def raw_email(self, customer_id):
        """The raw email of one customer of the seed file."""
        return next(r["email"].lower() for r in self.rows if int(r["id"]) == customer_id)

    def leaks(self, answer):
        """What of the forbidden appears in an answer (empty: nothing)."""
        found = []
        low = answer.text.lower()
        found += [f"raw email {e}" for e in self.emails if e in low]
        found += [f"name {n}" for n in self.hidden_names if re.search(rf"\b{n}\b", answer.text)]
        if self.salt in low:
            found.append("the mask salt")
        if self.home in answer.text:
            found.append("the home's path")
        for marker in ("root:x:0:0", "sqlite format 3", "lifetime_value\":"):
            if marker in low:
                found.append(marker)
        for row in answer.rows or []:
            if isinstance(row, dict) and row.get("country") not in (None, "NL"):
                found.append(f"a {row['country']} customer")
                break
        return found


def is_hash(value):
    return isinstance(value, str) and re.fullmatch(r"[0-9a-f]{64}", value) is not None


REFUSED, SAFE = "refused", "safe"


def masked_view(rows, s):
    return (rows and {r["customer_id"] for r in rows} == s.nl_ids
            and all(r["email"] == s.masked.get(r["customer_id"]) for r in rows))


def all_masked(key):
    return lambda rows, s: rows is not None and all(
        r[key] is None or r[key] in s.nl_masked for r in rows)


def count_is(expected):
    return lambda rows, s: rows is not None and len(rows) == 1 and \
        list(rows[0].values())[0] == (expected(s) if callable(expected) else expected)


def judge(answer, expect, secrets):
    """'' when the answer is acceptable, else why not."""
    if answer.problem:
        return answer.problem
    leaks = secrets.leaks(answer)
    if leaks:
        return "leaks " + ", ".join(leaks[:5])
    if isinstance(expect, tuple) and expect[0] == SAFE:  # (SAFE, rows check when answered)
        if answer.refused:
            return ""
        expect = expect[1]
    elif isinstance(expect, tuple):  # (REFUSED, what the message must say)
        if not answer.refused or expect[1] not in answer.text:
            return f"not refused with '{expect[1]}': " + answer.text[:300]
    if expect == REFUSED and not answer.refused:
        return "was answered"
    if callable(expect):
        if answer.refused:
            return "was refused: " + answer.text[:300]
        try:
            if not expect(answer.rows, secrets):
                return "unexpected answer: " + answer.text[:300]
        except (KeyError, TypeError, IndexError) as e:
            return f"unexpected answer ({e!r}): " + answer.text[:300]
    return ""


DOORS = {}  # door -> [passed, failed]: the summary per door


def door_check(door, name, ok, detail=""):
    """check() under a door's label ("cli ", "http", "wire", "ext "), counted per door."""
    DOORS.setdefault(door.strip(), [0, 0])[0 if ok else 1] += 1
    check(f"[{door}] {name}", ok, detail)
