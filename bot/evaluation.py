"""Score the matcher on a labelled question set (``tests/eval/*.yaml``).

An item is ``{q: question, expect: entry id | smalltalk | null, kind: ...}``. Definitions used everywhere
(the README, the test bars, ``faqbot eval``):

- *in-scope correct*: the right entry is answered, or offered among the "Meinten Sie …?" options (one tap away);
  *answered right* counts only the direct answers;
- *out-of-scope refused*: an out-of-scope question gets the honest fallback;
- *confident-wrong*: a direct answer with the wrong entry (or any answer to an out-of-scope question),
  as a share of all questions.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.knowledge.model import Lang
from bot.matching.matcher import Match

SMALLTALK = "smalltalk"


@dataclass(frozen=True, slots=True)
class EvalItem:
    question: str
    expect: str | None
    kind: str = ""


@dataclass(frozen=True, slots=True)
class Outcome:
    item: EvalItem
    match: Match
    seconds: float

    @property
    def got(self) -> str | None:
        if self.match.status == "smalltalk":
            return SMALLTALK
        return self.match.entry_id if self.match.status == "answer" else None

    @property
    def offered(self) -> list[str]:
        return [c.entry_id for c in self.match.candidates] if self.match.status == "clarify" else []

    @property
    def correct(self) -> bool:
        expect = self.item.expect
        if expect is None:
            return self.match.status == "fallback"
        return self.got == expect or expect in self.offered

    @property
    def confident_wrong(self) -> bool:
        return self.match.status in ("answer", "smalltalk") and self.got != self.item.expect


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    def _of(self, pred: Callable[[Outcome], bool]) -> list[Outcome]:
        return [o for o in self.outcomes if pred(o)]

    @property
    def in_scope(self) -> list[Outcome]:
        return self._of(lambda o: o.item.expect is not None)

    @property
    def out_of_scope(self) -> list[Outcome]:
        return self._of(lambda o: o.item.expect is None)

    @staticmethod
    def _rate(part: int, whole: int) -> float:
        return part / whole if whole else 1.0

    @property
    def in_scope_correct(self) -> float:
        return self._rate(sum(o.correct for o in self.in_scope), len(self.in_scope))

    @property
    def answered_right(self) -> float:
        return self._rate(sum(o.got == o.item.expect for o in self.in_scope), len(self.in_scope))

    @property
    def clarified(self) -> float:
        return self._rate(sum(o.match.status == "clarify" for o in self.in_scope), len(self.in_scope))

    @property
    def out_of_scope_refused(self) -> float:
        return self._rate(sum(o.correct for o in self.out_of_scope), len(self.out_of_scope))

    @property
    def confident_wrong(self) -> float:
        return self._rate(sum(o.confident_wrong for o in self.outcomes), len(self.outcomes))

    def per_entry(self) -> dict[str, tuple[float, float, int]]:
        """entry → (precision, recall, support) of direct answers."""
        predicted: Counter[str] = Counter()
        hits: Counter[str] = Counter()
        support: Counter[str] = Counter()
        for o in self.outcomes:
            if o.item.expect is not None:
                support[o.item.expect] += 1
            if o.got is not None:
                predicted[o.got] += 1
                if o.got == o.item.expect:
                    hits[o.got] += 1
        ids = sorted(set(support) | set(predicted))
        return {i: (self._rate(hits[i], predicted[i]), self._rate(hits[i], support[i]), support[i]) for i in ids}

    def confusions(self) -> list[tuple[str, str, int]]:
        """(expected, got, count) for wrong direct answers; ``-`` stands for out-of-scope."""
        counts: Counter[tuple[str, str]] = Counter()
        for o in self.outcomes:
            if o.confident_wrong:
                counts[(o.item.expect or "-", o.got or "-")] += 1
        return [(a, b, n) for (a, b), n in counts.most_common()]

    def misses(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.correct]

    def summary(self) -> str:
        return (
            f"in-scope correct {self.in_scope_correct:.3f} (answered right {self.answered_right:.3f}, "
            f"clarify {self.clarified:.3f}) · out-of-scope refused {self.out_of_scope_refused:.3f} · "
            f"confident-wrong {self.confident_wrong:.3f} · n={len(self.outcomes)} "
            f"({len(self.in_scope)} in scope, {len(self.out_of_scope)} out of scope)"
        )

    def text(self) -> str:
        lines = ["Per entry (direct answers):", f"  {'entry':28} {'prec':>5} {'recall':>6} {'n':>4}"]
        for entry_id, (precision, recall, n) in self.per_entry().items():
            lines.append(f"  {entry_id:28} {precision:5.2f} {recall:6.2f} {n:4d}")
        lines.append("Confusions (expected → answered):")
        lines += [f"  {a} → {b}: {n}" for a, b, n in self.confusions()] or ["  none"]
        lines.append("Misses:")
        for o in self.misses():
            got = o.got or o.match.status
            offered = f" offered {','.join(o.offered)}" if o.offered else ""
            lines.append(
                f"  [{o.item.kind}] {o.item.question!r}: expected {o.item.expect}, got {got}{offered}"
                f" ({o.match.score:.0f})"
            )
        if not self.misses():
            lines.append("  none")
        lines.append(self.summary())
        return "\n".join(lines)


HOLDOUT = "holdout.yaml"


def development_sets(directory: Path) -> list[Path]:
    """The development sets in ``directory`` (``dev.yaml``, ``dev2.yaml`` … ``dev10.yaml``), in number order.

    They may be studied while tuning; ``holdout.yaml`` beside them is only ever scored."""
    found = [p for p in directory.glob("dev*.yaml") if re.fullmatch(r"dev\d*", p.stem)]
    return sorted(found, key=lambda p: int(p.stem[3:] or 1))


def load_items(paths: Iterable[Path | str]) -> list[EvalItem]:
    items = []
    for path in paths:
        for raw in yaml.safe_load(Path(path).read_text(encoding="utf-8")) or []:
            items.append(EvalItem(str(raw["q"]), raw.get("expect"), str(raw.get("kind", ""))))
    return items


def evaluate(items: Iterable[EvalItem], match: Callable[[str, Lang | None], Match]) -> Report:
    report = Report()
    for item in items:
        started = time.perf_counter()
        result = match(item.question, None)
        report.outcomes.append(Outcome(item, result, time.perf_counter() - started))
    return report
