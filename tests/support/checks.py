"""What the end-to-end scripts share: one line per check, and the summary ctest reads.

    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
    from checks import RESULTS, check

    check("the query answers", rc == 0, stderr)   # prints "ok    ..." or "FAIL  ... detail"
    return summary()                               # "N passed, M failed"; the exit status
"""
import argparse
import pathlib

RESULTS = {"passed": 0, "failed": 0}


def check(name, condition, detail=""):
    """Counts and prints one check; a failure shows (the start of) its detail."""
    if condition:
        RESULTS["passed"] += 1
        print(f"ok    {name}")
    else:
        RESULTS["failed"] += 1
        print(f"FAIL  {name} {str(detail)[:700]}")


def summary():
    """Prints the counts ctest shows and returns the script's exit status (1 if any failed)."""
    print(f"{RESULTS['passed']} passed, {RESULTS['failed']} failed")
    return 1 if RESULTS["failed"] else 0


EXAMPLE_MESH = pathlib.Path(__file__).resolve().parents[2] / "examples" / "jaffle-mesh"


def mesh_args(parser=None):
    """The arguments of a script run on the example mesh: --plexus (the binary, required) and
    --mesh (default: examples/jaffle-mesh). Pass a parser to add arguments of your own."""
    parser = parser or argparse.ArgumentParser()
    parser.add_argument("--plexus", required=True)
    parser.add_argument("--mesh", default=str(EXAMPLE_MESH))
    return parser.parse_args()
