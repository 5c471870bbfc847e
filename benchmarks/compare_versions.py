"""Score earlier versions of the matcher and knowledge on today's development sets.

Run: .venv/bin/python benchmarks/compare_versions.py REV [REV ...] [--sets dev7 dev9]
Each REV's ``bot/`` and ``knowledge/`` are exported with ``git archive`` into a temporary directory and scored in a
subprocess of their own; the questions come from the working tree's ``tests/eval/``, so a set written later can be
scored on an older version. That is how each set written blind was checked before anyone read it ("the version
before this session … after …" in the README). With more than one set, a last row "pooled" scores them as one.
The holdout is never scored here.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVAL_DIR = ROOT / "tests" / "eval"

# Runs inside the exported version; uses only what every version of bot.evaluation has had.
_SCORE = """
import json, sys
from pathlib import Path
from bot.evaluation import evaluate, load_items
from bot.knowledge.loader import load_knowledge
from bot.matching.matcher import Matcher
matcher = Matcher(load_knowledge(Path("knowledge")).knowledge)
def rates(r):
    return [r.in_scope_correct, r.answered_right, r.out_of_scope_refused, r.confident_wrong]
for path in sys.argv[1:]:
    print(json.dumps([Path(path).stem, *rates(evaluate(load_items([path]), matcher.match))]))
if len(sys.argv) > 2:  # all the sets as one
    print(json.dumps(["pooled", *rates(evaluate(load_items(sys.argv[1:]), matcher.match))]))
"""


def score(rev: str, paths: list[Path]) -> list[list[object]]:
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "archive", rev, "bot", "knowledge"], cwd=ROOT, check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        env = {**os.environ, "PYTHONPATH": tmp}
        run = subprocess.run(
            [sys.executable, "-c", _SCORE, *map(str, paths)],
            cwd=tmp,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
    return [json.loads(line) for line in run.stdout.splitlines()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("revs", nargs="+", help="git revisions (commit, tag, HEAD …)")
    parser.add_argument("--sets", nargs="*", help="development sets by name (default: every tests/eval/dev*.yaml)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from bot.evaluation import HOLDOUT, development_sets

    paths = development_sets(EVAL_DIR) if not args.sets else [EVAL_DIR / f"{name}.yaml" for name in args.sets]
    if any(p.name == HOLDOUT for p in paths):
        sys.exit("the holdout is only scored by bench_matcher.py and the tests, not compared across versions")
    print("version      set     in-scope  answered right  refused  confident-wrong")
    for rev in args.revs:
        label = subprocess.run(
            ["git", "rev-parse", "--short", rev], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout.strip()
        for name, in_scope, answered, refused, wrong in score(rev, paths):
            print(f"{label:12} {name:7} {in_scope:8.3f}  {answered:14.3f}  {refused:7.3f}  {wrong:15.3f}")


if __name__ == "__main__":
    main()
