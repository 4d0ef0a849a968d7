"""Peak memory of ``pyop derive --check`` on the 10,000-block fixture, beside its floors.

Run: ``.venv/bin/python -m bench.memory_bench [--quick]`` (see bench/README.md).

Each figure is the peak resident set (``ru_maxrss`` of a child process, Linux: KiB) of a fresh
interpreter, measured one after the other in one run on the same fixture file (the Holocene
fixture of ``bench.derive_bench``, 74 MB; 1,000 blocks with ``--quick``):

- ``interpreter + pyop imports``: ``import pyop.cli, pyop.tools.derive, pyop.tools.fixture``
  and nothing else (the floor any pyop command pays);
- ``json.loads of the file``: reading the whole file and parsing it into Python objects, what
  a loader that parses the file at once holds at its peak (pyop's loader before issue 15);
- ``pyop derive --fixture F --check``: the real command, streaming loader, derivation and the
  check of every block (must report 0 mismatched; the bench fails otherwise).

Issue 15's target: ``pyop derive --check`` of the 10,000-block fixture under 200 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_MB = 200


def peak_mb(argv: list[str]) -> tuple[float, str]:
    """Run ``argv`` as a child and return its own peak RSS in MB (``wait4``'s rusage of that
    child alone) and the last line of its stderr (``pyop derive`` prints its summary there)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(argv, cwd=REPO, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"FAIL: {argv[:4]} exited {proc.returncode}: {err.read()[-2000:]}")
        lines = err.read().strip().splitlines()
    return usage.ru_maxrss / 1024, lines[-1] if lines else ""


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="the 1,000-block fixture")
    a = ap.parse_args(argv)
    blocks = 1_000 if a.quick else 10_000
    py = sys.executable
    # The fixture is found (or generated) in a child: this process stays small, because a
    # child's peak RSS starts from a copy of its parent's (fork before exec).
    path = Path(subprocess.run(
        [py, "-c", "import sys; from bench.derive_bench import Params, get_fixture; "
                   f"print(get_fixture(Params(blocks={blocks}))[1], file=sys.stderr)"],
        cwd=REPO, capture_output=True, text=True, check=True, timeout=900,
    ).stderr.strip().splitlines()[-1])  # fmt: skip
    print(f"peak RSS (fresh interpreter each; fixture {path.name}, {path.stat().st_size / 1e6:.0f} MB)")
    base, _ = peak_mb([py, "-c", "import pyop.cli, pyop.tools.derive, pyop.tools.fixture"])
    print(f"  {'interpreter + pyop imports':<36} {base:7.1f} MB")
    parse, _ = peak_mb([py, "-c", f"import json; json.loads(open({str(path)!r}, 'rb').read())"])
    print(f"  {'json.loads of the whole file':<36} {parse:7.1f} MB")
    pyop = str(Path(py).parent / "pyop")
    derive, last = peak_mb([pyop, "derive", "--fixture", str(path), "--check"])
    if f"{blocks} matched, 0 mismatched" not in last:
        raise SystemExit(f"FAIL: pyop derive --check: {last!r}")
    ok = "within" if derive <= TARGET_MB else "OVER"
    print(f"  {'pyop derive --check':<36} {derive:7.1f} MB  ({last}; {ok} the {TARGET_MB} MB target)")
    print(f"  ratios: derive/json.loads x{derive / parse:.2f}, derive - imports {derive - base:.0f} MB")
    print(json.dumps({"imports_mb": base, "json_loads_mb": parse, "derive_check_mb": derive}))


if __name__ == "__main__":
    main()
