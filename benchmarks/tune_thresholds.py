"""Random search over the matcher's :class:`Thresholds` on the development sets (never the holdout).

Run: .venv/bin/python benchmarks/tune_thresholds.py [--trials 300] [--seed 1] [--spread 0.25] [--goal answered]
A greedy random walk: each trial moves one to three numeric thresholds of the best point so far (starting at the
defaults) by up to ±spread (relative) and scores every development set (tests/eval/dev*.yaml). A trial is
admissible when, on *each* set, out-of-scope refused and answered right are at least the defaults' and
confident-wrong at most the defaults' (a new setting must not buy recall with refusal or with questions back
anywhere), and the knowledge must pass its self-test; among those the best mean in-scope correct wins (ties: the
higher mean out-of-scope refusal). With ``--goal answered`` the best mean answered-right wins instead, and
in-scope correct joins the conditions (more direct answers, no fewer right ones offered). Prints the defaults'
scores, the ten best admissible settings and, for the best, the fields that differ from the defaults, ready to
paste into ``Thresholds``.

tests/eval/holdout.yaml is deliberately not read: tuning on it would make its figure meaningless.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.evaluation import development_sets, evaluate, load_items  # noqa: E402
from bot.knowledge.loader import load_knowledge  # noqa: E402
from bot.knowledge.model import Knowledge  # noqa: E402
from bot.lint import self_test  # noqa: E402
from bot.matching.matcher import DEFAULT_THRESHOLDS, Matcher, Thresholds  # noqa: E402

FIXED = {"max_options"}  # not searched: how many options a clarify offers is a product decision

Scores = dict[str, tuple[float, float, float, float]]  # in-scope correct, refused, confident-wrong, answered right


def score(knowledge: Knowledge, thresholds: Thresholds, items: dict[str, list]) -> Scores | None:  # type: ignore[type-arg]
    """The scores on each set, or None when the knowledge would fail its self-test with these thresholds (every
    phrasing must answer its own entry; the bot refuses such a version, see bot/lint.py)."""
    matcher = Matcher(knowledge, thresholds)
    if self_test(knowledge, matcher):
        return None
    out = {}
    for name, its in items.items():
        report = evaluate(its, matcher.match)
        out[name] = (
            report.in_scope_correct,
            report.out_of_scope_refused,
            report.confident_wrong,
            report.answered_right,
        )
    return out


def admissible(scores: Scores, base: Scores, goal: str = "in-scope") -> bool:
    """No set refuses less, answers wrong more often or answers right less often than with the defaults
    (for ``goal`` "answered": nor gets fewer questions in scope right, answered or offered).

    The answered-right condition keeps the search from buying in-scope correct by turning answers into "Meinten Sie
    …?" (a clarify counts as correct, but a bot that asks back every other time is no help)."""
    return all(
        (goal != "answered" or scores[name][0] >= base[name][0] - 1e-9)
        and scores[name][1] >= base[name][1] - 1e-9
        and scores[name][2] <= base[name][2] + 1e-9
        and scores[name][3] >= base[name][3] - 1e-9
        for name in scores
    )


def objective(scores: Scores, goal: str = "in-scope") -> tuple[float, float]:
    n = len(scores)
    first = 3 if goal == "answered" else 0
    return sum(s[first] for s in scores.values()) / n, sum(s[1] for s in scores.values()) / n


def perturb(base: Thresholds, rng: random.Random, spread: float) -> Thresholds:
    """Move one to three randomly chosen thresholds by up to ±spread (relative); counts by one up or down."""
    names = [
        f.name
        for f in dataclasses.fields(base)
        if f.name not in FIXED and isinstance(getattr(base, f.name), (float, int))
    ]
    changes: dict[str, float | int] = {}
    for name in rng.sample(names, rng.randint(1, 3)):
        f = next(f for f in dataclasses.fields(base) if f.name == name)
        value = getattr(base, f.name)
        if isinstance(value, int):
            changes[f.name] = max(1, value + rng.choice((-1, 1)))
            continue
        new = value * (1 + rng.uniform(-spread, spread))
        if f.name in ("explained_share", "option_floor", "phrasing_floor", "incidental_credit", "bag_share"):
            new = min(max(new, 0.0), 1.0)
        changes[f.name] = round(new, 3)
    return dataclasses.replace(base, **changes)


def fmt(scores: Scores) -> str:
    return "  ".join(f"{k} {i:.3f}/{o:.3f}/{c:.3f}/{a:.3f}" for k, (i, o, c, a) in scores.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--spread", type=float, default=0.25)
    parser.add_argument("--goal", choices=("in-scope", "answered"), default="in-scope", help="what to maximise")
    args = parser.parse_args()
    knowledge = load_knowledge(ROOT / "knowledge").knowledge
    assert knowledge is not None
    items = {path.stem: load_items([path]) for path in development_sets(ROOT / "tests" / "eval")}  # never the holdout
    rng = random.Random(args.seed)
    base = score(knowledge, DEFAULT_THRESHOLDS, items)
    if base is None:
        sys.exit("the knowledge fails its self-test with the default thresholds: run faqbot check knowledge")
    print(f"defaults: {fmt(base)}  (in-scope/out-of-scope refused/confident-wrong/answered right)")
    goal = args.goal
    results = [(objective(base, goal), DEFAULT_THRESHOLDS, base)]
    current = (objective(base, goal), DEFAULT_THRESHOLDS)
    for trial in range(args.trials):
        # A random walk that keeps the best admissible point so far as its centre (greedy local search).
        thresholds = perturb(current[1], rng, args.spread)
        scores = score(knowledge, thresholds, items)
        if scores is not None and admissible(scores, base, goal):
            results.append((objective(scores, goal), thresholds, scores))
            if objective(scores, goal) > current[0]:
                current = (objective(scores, goal), thresholds)
        if (trial + 1) % 50 == 0:
            print(f"  {trial + 1} trials, best mean {goal} {max(r[0] for r in results)[0]:.3f}")
    results.sort(key=lambda r: r[0], reverse=True)
    print(
        f"\nbest admissible of {args.trials} "
        f"(no set worse than the defaults in refusal, confident-wrong or answered right), by mean {goal}:"
    )
    for (mean_goal, mean_oos), _, scores in results[:10]:
        print(f"  {goal} {mean_goal:.3f} oos {mean_oos:.3f}  {fmt(scores)}")
    if results:
        best = results[0][1]
        diff = {
            f.name: getattr(best, f.name)
            for f in dataclasses.fields(best)
            if getattr(best, f.name) != getattr(DEFAULT_THRESHOLDS, f.name)
        }
        print("\nbest settings (changed fields):")
        for name, value in diff.items():
            print(f"  {name} = {value}  # default {getattr(DEFAULT_THRESHOLDS, name)}")


if __name__ == "__main__":
    main()
