"""Accuracy and latency of faqbot's matcher against a naive baseline; scale test on a generated knowledge base.

Run: .venv/bin/python benchmarks/bench_matcher.py
Prints: accuracy on the evaluation sets (faqbot vs rapidfuzz extractOne/WRatio over raw phrasings), per-question
latency p50/p99 on the real knowledge and on 2,000 entries × 8 phrasings (pinned to one core), index build time
and peak memory.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import random
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

from rapidfuzz import fuzz, process

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.evaluation import HOLDOUT, Report, development_sets, evaluate, load_items  # noqa: E402
from bot.knowledge.loader import load_knowledge  # noqa: E402
from bot.knowledge.model import Entry, Knowledge, Source, Text, Topic  # noqa: E402
from bot.matching.matcher import Candidate, Match, Matcher  # noqa: E402

BASELINE_CUTOFF = 60.0  # WRatio score below which the baseline says "I don't know"


def baseline_matcher(knowledge: Knowledge):  # type: ignore[no-untyped-def]
    """rapidfuzz extractOne with WRatio over the raw phrasings, with a score cutoff for "I don't know"."""
    choices = {}
    for entry in knowledge.entries.values():
        for phrasings in entry.questions.values():
            for p in phrasings:
                choices[f"{entry.id}\0{len(choices)}"] = p

    def match(question: str, lang: object = None) -> Match:
        hit = process.extractOne(question, choices, scorer=fuzz.WRatio, processor=str.lower)
        if hit is None or hit[1] < BASELINE_CUTOFF:
            return Match("fallback", "de", hit[1] if hit else 0.0)
        entry_id = hit[2].split("\0")[0]
        return Match("answer", "de", hit[1], entry_id, (Candidate(entry_id, hit[1], hit[0]),))

    return match


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def latency(matcher: Matcher, questions: list[str], repeat: int = 3) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        for q in questions:
            started = time.perf_counter()
            matcher.match(q)
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), percentile(times, 0.99)


WORDS = (
    "antrag frist gebühr formular bescheid zuständigkeit verfahren termin sitzung beschluss haushalt personal "
    "schulung software lizenz netzwerk drucker server telefon urlaub dienstreise fortbildung vertrag rechnung "
    "beschaffung ausschreibung bauantrag parkausweis friedhof bibliothek museum bad kita schule sporthalle "
    "straße laterne baum müll wasser abwasser energie klima mobilität bus fahrrad wohnung miete zuschuss förderung "
    "verein veranstaltung markt hafen see fähre tourismus statistik wahl bürgerbüro ausweis pass meldung gewerbe"
).split()
VERBS = "beantragen ändern kündigen verlängern prüfen melden erhalten bezahlen buchen planen".split()


def generated_knowledge(entries: int = 2000, phrasings: int = 8, seed: int = 7) -> Knowledge:
    rng = random.Random(seed)
    topic = Topic("t", Text("Thema", "Topic"))
    source = (Source("https://example.org", "Beispiel"),)
    out = {}
    for i in range(entries):
        keys = [*rng.sample(WORDS, 3), f"vorgang{i}"]
        qs = []
        for j in range(phrasings):
            verb = rng.choice(VERBS)
            a, b = rng.sample(keys, 2)
            qs.append(f"Wie kann ich {a} {b} {verb} ({j})?")
        out[f"e{i}"] = Entry(
            f"e{i}", "t", {"de": tuple(qs)}, Text(f"Antwort {i} zu {' '.join(keys)}"), source, dt.date(2024, 1, 1)
        )
    return Knowledge(out, {}, {}, {"t": topic}, (), {})


def leave_one_out(knowledge: Knowledge) -> str:
    """Each phrasing is removed from its entry and asked: how the matcher does on wordings it has not seen."""
    counts = {"answer right": 0, "clarify offering it": 0, "fallback": 0, "other clarify": 0, "answer wrong": 0}
    for entry in knowledge.entries.values():
        for lang, phrasings in entry.questions.items():
            for i, question in enumerate(phrasings):
                rest = phrasings[:i] + phrasings[i + 1 :]
                reduced = dataclasses.replace(entry, questions={**entry.questions, lang: rest})
                match = Matcher(dataclasses.replace(knowledge, entries={**knowledge.entries, entry.id: reduced})).match(
                    question
                )
                if match.status == "answer":
                    counts["answer right" if match.entry_id == entry.id else "answer wrong"] += 1
                elif match.status == "clarify":
                    offered = entry.id in {c.entry_id for c in match.candidates}
                    counts["clarify offering it" if offered else "other clarify"] += 1
                else:
                    counts["fallback"] += 1
    total = sum(counts.values())
    return f"{total} phrasings: " + ", ".join(f"{k} {v / total:.3f}" for k, v in counts.items())


def show(name: str, report: Report) -> None:
    print(f"  {name:9} {report.summary()}")


def main() -> None:
    try:
        os.sched_setaffinity(0, {0})
        pinned = "pinned to CPU 0"
    except (AttributeError, OSError):
        pinned = "not pinned"
    print(f"# faqbot matcher benchmark ({pinned}, Python {sys.version.split()[0]})")
    knowledge = load_knowledge(ROOT / "knowledge").knowledge
    assert knowledge is not None
    started = time.perf_counter()
    matcher = Matcher(knowledge)
    build_real = time.perf_counter() - started

    print("\n## Accuracy (same knowledge, same questions)")
    eval_dir = ROOT / "tests" / "eval"
    dev_sets = development_sets(eval_dir)
    sets = {path.stem: load_items([path]) for path in (*dev_sets, eval_dir / HOLDOUT)}
    for name, items in sets.items():
        print(f"{name} ({len(items)} questions):")
        show("faqbot", evaluate(items, matcher.match))
        show("baseline", evaluate(items, baseline_matcher(knowledge)))
    pooled = [item for path in dev_sets for item in sets[path.stem]]
    print(f"dev sets pooled ({len(pooled)} questions):")
    show("faqbot", evaluate(pooled, matcher.match))
    print(f"  (baseline: rapidfuzz.process.extractOne, scorer=WRatio, lower-cased, cutoff {BASELINE_CUTOFF:.0f})")

    print("\n## Leave-one-out on the knowledge's own phrasings")
    print(leave_one_out(knowledge))

    print("\n## Latency per question")
    questions = [i.question for items in sets.values() for i in items]
    p50, p99 = latency(matcher, questions)
    print(
        f"real knowledge ({len(knowledge.entries)} entries): index build {build_real * 1000:.1f} ms, "
        f"p50 {p50:.3f} ms, p99 {p99:.3f} ms"
    )
    base = baseline_matcher(knowledge)
    times = []
    for q in questions:
        s = time.perf_counter()
        base(q)
        times.append((time.perf_counter() - s) * 1000)
    print(f"baseline on real knowledge: p50 {statistics.median(times):.3f} ms, p99 {percentile(times, 0.99):.3f} ms")

    big = generated_knowledge()
    started = time.perf_counter()
    big_matcher = Matcher(big)
    build_big = time.perf_counter() - started
    tracemalloc.start()
    Matcher(big)
    _, peak_index = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rng = random.Random(3)
    big_questions = (
        questions
        + [f"{rng.choice(WORDS)} {rng.choice(VERBS)} {rng.choice(WORDS)}" for _ in range(300)]
        + [f"wie kann ich {rng.choice(WORDS)}{rng.choice('xyz')} {rng.choice(VERBS)}" for _ in range(100)]
    )
    p50, p99 = latency(big_matcher, big_questions)
    print(
        f"generated knowledge (2,000 entries × 8 phrasings): index build {build_big:.2f} s, "
        f"p50 {p50:.3f} ms, p99 {p99:.3f} ms over {len(big_questions) * 3} questions"
    )
    print("\n## Memory")
    print(f"building the index of the generated knowledge: {peak_index / 1e6:.1f} MB peak (tracemalloc)")
    print(f"process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
