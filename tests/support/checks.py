"""What the end-to-end scripts share: one line per check, and the summary ctest reads.

    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
    from checks import RESULTS, check

    check("the query answers", rc == 0, stderr)   # prints "ok    ..." or "FAIL  ... detail"
    return summary()                               # "N passed, M failed"; the exit status
"""
import argparse
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import traceback

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
    """Prints the counts ctest shows and returns the script's exit status (1 if any failed).
    Called from a `finally:` while an exception propagates, it counts the exception as a
    failure (prints it), so `finally: sys.exit(summary())` never turns a crash into a pass."""
    error = sys.exc_info()[1]
    if error is not None and not isinstance(error, SystemExit):
        traceback.print_exc()
        check(f"the script ran to its end (it raised {type(error).__name__}: {error})", False)
    print(f"{RESULTS['passed']} passed, {RESULTS['failed']} failed")
    return 1 if RESULTS["failed"] else 0


EXAMPLE_MESH = pathlib.Path(__file__).resolve().parents[2] / "examples" / "jaffle-mesh"


def stop(process):
    """Ends a server the script started (SIGTERM, then SIGKILL after 20 s); None is fine."""
    if process is None:
        return
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def scratch_mesh(args, prefix):
    """A copy of args.mesh in a new temporary folder, with a home beside it: (work folder,
    mesh folder, home folder, the plexus command line naming both). Remove `work` when done."""
    work = tempfile.mkdtemp(prefix=prefix)
    mesh, home = os.path.join(work, "mesh"), os.path.join(work, "home")
    shutil.copytree(args.mesh, mesh, ignore=shutil.ignore_patterns(".plexus"))
    return work, mesh, home, [os.path.abspath(args.plexus), "--mesh", mesh, "--home", home]


def make_private(mesh, product):
    """Makes the example product's port private in the mesh copy (its contract's visibility)."""
    path = pathlib.Path(mesh) / f"domains/{product}/{product}/contracts/{product}.odcs.yaml"
    text = path.read_text()
    path.write_text(text.replace("    value: public\n", "    value: private\n", 1))


def shown_token(stdout):
    """The token `plexus principal create NAME --token` shows once ("" when none)."""
    found = re.search(r"token \(shown once\): (\S+)", stdout)
    return found.group(1) if found else ""


def mesh_args(parser=None):
    """The arguments of a script run on the example mesh: --plexus (the binary, required) and
    --mesh (default: examples/jaffle-mesh). Pass a parser to add arguments of your own."""
    parser = parser or argparse.ArgumentParser()
    parser.add_argument("--plexus", required=True)
    parser.add_argument("--mesh", default=str(EXAMPLE_MESH))
    return parser.parse_args()
