"""What the end-to-end scripts share: one line per check, and the summary ctest reads.

    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
    from checks import RESULTS, check

    check("the query answers", rc == 0, stderr)   # prints "ok    ..." or "FAIL  ... detail"
    print(f"{RESULTS['passed']} passed, {RESULTS['failed']} failed")
"""

RESULTS = {"passed": 0, "failed": 0}


def check(name, condition, detail=""):
    """Counts and prints one check; a failure shows (the start of) its detail."""
    if condition:
        RESULTS["passed"] += 1
        print(f"ok    {name}")
    else:
        RESULTS["failed"] += 1
        print(f"FAIL  {name} {str(detail)[:700]}")
