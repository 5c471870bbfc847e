"""Reload under editor mistakes: is every broken knowledge file refused, precisely, fast, without a blip?

Run: .venv/bin/python benchmarks/bench_reload.py [--count 200] [--seed 20261126] [--valid 20]

Copies the shipped knowledge to a temporary directory, starts :class:`bot.service.FaqService` on it and applies
the mutation catalogue of tests/support/mutations.py (syntax errors, wrong types, dangling references, duplicate
ids, alias bombs, 10 MB files, …), one at a time, each followed by ``reload()`` and undone afterwards. A thread
keeps asking questions with known answers throughout. Prints: mutations refused / total, refusals with a precise
message (file, line ± 2, key path) / total, reload time p50/p99/max for refused reloads and for valid reloads
(``--valid`` edits of an answer text) with its stages on the shipped knowledge (load and validate, build the
index, lint incl. self-test), and how many answers of the background asker differed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.knowledge.loader import load_knowledge  # noqa: E402
from bot.lint import run_lint  # noqa: E402
from bot.service import FaqService, Snapshot  # noqa: E402
from tests.support.mutations import (  # noqa: E402
    Asker,
    generate,
    probe_questions,
    run_mutations,
    snapshot_files,
    valid_edit,
)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def times(label: str, seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return (
        f"{label}: n={len(ms)}  p50 {statistics.median(ms):.1f} ms  p99 {percentile(ms, 0.99):.1f} ms  "
        f"max {max(ms):.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200, help="number of mutations")
    parser.add_argument("--seed", type=int, default=20261126, help="seed of the target choice")
    parser.add_argument("--valid", type=int, default=20, help="number of valid reloads to time")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)

    print("$ " + shlex.join([Path(sys.executable).name, *sys.argv]))
    print(f"# faqbot reload benchmark (Python {sys.version.split()[0]})")
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "knowledge"
        shutil.copytree(ROOT / "knowledge", directory)
        originals = snapshot_files(directory)
        service = FaqService.from_directory(directory)
        mutations = generate(directory, args.count, args.seed)
        kinds = Counter(m.kind.split("/")[0] for m in mutations)
        print(f"mutations: {len(mutations)} of {len(Counter(m.kind for m in mutations))} kinds ({dict(kinds)})")

        asker = Asker(service, probe_questions(service))
        asker.start()
        try:
            outcome = run_mutations(service, directory, mutations)
        finally:
            asker.stop()

        valid: list[float] = []
        live = 0
        for n in range(args.valid):
            before = service.snapshot
            valid_edit(directory, f"Geprüft ({n}).")
            started = time.perf_counter()
            result = service.reload()
            valid.append(time.perf_counter() - started)
            live += result.knowledge is not None and service.snapshot is not before
            for name, data in originals.items():
                (directory / name).write_bytes(data)

    stages: dict[str, list[float]] = {"load + validate": [], "index build": [], "lint + self-test": []}
    for _ in range(max(1, args.valid)):
        started = time.perf_counter()
        knowledge = load_knowledge(ROOT / "knowledge").knowledge
        loaded = time.perf_counter()
        assert knowledge is not None
        snapshot = Snapshot.build(knowledge)
        built = time.perf_counter()
        run_lint(knowledge, snapshot.matcher, today=dt.date.today())
        linted = time.perf_counter()
        for name, seconds in zip(stages, (loaded - started, built - loaded, linted - built), strict=True):
            stages[name].append(seconds)

    print(f"refused:          {outcome.refused} / {outcome.total}")
    print(f"precise message:  {outcome.precise} / {outcome.total}  (file, line ± 2, key path)")
    print(f"old version kept: {outcome.snapshot_kept} / {outcome.total}")
    print(times("reload, refused", outcome.seconds))
    if valid:
        print(times("reload, valid  ", valid) + f"  (went live: {live} / {len(valid)})")
    for name, seconds in stages.items():
        print(times(f"  stage {name}", seconds))
    print(
        f"background asker: {asker.asked} questions during the reloads, {len(asker.differed)} answers differed, "
        f"{len(asker.crashed)} errors"
    )
    for failure in outcome.failures[:10]:
        print("  " + failure)


if __name__ == "__main__":
    main()
