"""The command line: ask (text and JSON contract), chat, check, eval; errors never as tracebacks."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import ChatSession, main
from bot.service import FaqService
from tests.conftest import KNOWLEDGE_DIR, ROOT


def run_cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=60
    )


def test_ask_json_stdin_contract() -> None:
    questions = ["Wann wechselt die Schul-IT?", "Wie wird das Wetter?", "hallo", "Ausschreibung"]
    proc = run_cli("ask", "--json", "-", stdin="\n".join(questions) + "\n")
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["question"] for r in rows] == questions
    for row in rows:
        assert {"question", "status", "id", "score", "answer", "suggestions", "lang"} <= row.keys()
        assert row["status"] in {"answer", "clarify", "fallback", "smalltalk"}
        assert 0 <= row["score"] <= 100
        assert row["lang"] in {"de", "en"}
    answer, fallback, smalltalk = rows[0], rows[1], rows[2]
    assert answer["status"] == "answer" and answer["id"] == "schul-it-wechsel"
    assert "Stand: 24.06.2022" in answer["answer"] and "kommune21" in answer["answer"]
    assert fallback["status"] == "fallback" and fallback["id"] is None
    assert smalltalk["status"] == "smalltalk" and smalltalk["id"] is None


AMBIGUOUS_KNOWLEDGE = """
topics: [{id: t, title: T}]
entries:
  - {id: a, topic: t, questions: {de: ['Wann beginnt die Ausschreibung der Stelle?']}, answer: {de: Anfang.},
     sources: [{url: 'https://example.org', title: x}], as_of: 2022-06-24}
  - {id: b, topic: t, questions: {de: ['Wann endet die Ausschreibung der Stelle?']}, answer: {de: Ende.},
     sources: [{url: 'https://example.org', title: x}], as_of: 2022-06-24}
"""


def test_ask_json_clarify_suggestions(tmp_path: Path) -> None:
    (tmp_path / "k.yaml").write_text(AMBIGUOUS_KNOWLEDGE, encoding="utf-8")
    proc = run_cli("--knowledge", str(tmp_path), "ask", "--json", "Ausschreibung der Stelle")
    assert proc.returncode == 0, proc.stderr
    row = json.loads(proc.stdout)
    assert row["status"] == "clarify" and row["id"] is None
    assert {s["id"] for s in row["suggestions"]} == {"a", "b"}
    for s in row["suggestions"]:
        assert s["question"] and "Stand: 24.06.2022" in s["answer"]


def test_ask_lang_override(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--json", "--lang", "en", "Wann", "wechselt", "die", "Schul-IT?"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["lang"] == "en" and "As of" in row["answer"]


def test_chat_session_numbers_pick_options() -> None:
    out = io.StringIO()
    session = ChatSession(FaqService.from_directory(KNOWLEDGE_DIR), out)
    session.handle("/themen")
    assert "1. " in out.getvalue()
    session.handle("1")
    assert "Stand:" in out.getvalue()
    session.handle("99")
    assert "Bitte eine Zahl" in out.getvalue()
    session.handle("/sprache en")
    session.handle("/unbekannt")
    assert "Unknown command" in out.getvalue()
    assert session.handle("/ende") is False


def test_chat_runs_over_a_pipe() -> None:
    proc = run_cli("chat", stdin="Wann wechselt die Schul-IT?\n/meilensteine\n/ende\n")
    assert proc.returncode == 0, proc.stderr
    assert "Dezernat" in proc.stdout and "geplant" in proc.stdout


def test_check_ok_and_json() -> None:
    proc = run_cli("check", str(KNOWLEDGE_DIR))
    assert proc.returncode == 0 and "OK:" in proc.stdout
    payload = json.loads(run_cli("check", "--json").stdout)
    assert payload["ok"] is True and payload["entries"] >= 14


@pytest.mark.parametrize(
    ("mutation", "expected"),
    [
        (lambda t: t.replace("entries:", "entries:\n  - id: [", 1), "YAML-Syntaxfehler"),
        (lambda t: t.replace("    topic: amt\n", "    topic: amt\n    topic: amt\n", 1), "doppelt"),
        (lambda t: t.replace("    topic: amt\n", "    thema: amt\n", 1), "unbekannter Schlüssel 'thema'"),
        (lambda t: t.replace("as_of: 2022-06-24", "as_of: [1]", 1), "erwartet ein Datum"),
        (lambda t: t.replace("related: [", "related: [nirgendwo, ", 1), "Eintrag 'nirgendwo' gibt es nicht"),
        (lambda t: "x: &a [1]\ny: *a\n" + t, "Anker"),
    ],
)
def test_check_broken_knowledge_gives_precise_error_and_nonzero_exit(
    tmp_path: Path,
    mutation,
    expected: str,  # type: ignore[no-untyped-def]
) -> None:
    target = tmp_path / "k"
    shutil.copytree(KNOWLEDGE_DIR, target)
    faq = target / "faq.yaml"
    faq.write_text(mutation(faq.read_text(encoding="utf-8")), encoding="utf-8")
    proc = run_cli("check", str(target))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stdout + proc.stderr
    assert expected in proc.stdout
    assert f"{faq}:" in proc.stdout or "faq.yaml:" in proc.stdout
    ask = run_cli("--knowledge", str(target), "ask", "hallo")
    assert ask.returncode == 2 and "Traceback" not in ask.stderr and "faq.yaml:" in ask.stderr


def test_eval_command_prints_report(tmp_path: Path) -> None:
    file = tmp_path / "mini.yaml"
    file.write_text(
        "- {q: 'Wann wechselt die Schul-IT?', expect: schul-it-wechsel, kind: paraphrase}\n"
        "- {q: 'Wie wird das Wetter?', expect: null, kind: oos}\n",
        encoding="utf-8",
    )
    proc = run_cli("eval", "--file", str(file))
    assert proc.returncode == 0, proc.stderr
    assert "in-scope correct 1.000" in proc.stdout and "out-of-scope refused 1.000" in proc.stdout
    assert "Per entry" in proc.stdout and "Confusions" in proc.stdout and "Misses" in proc.stdout


def test_eval_shows_only_the_summary_of_a_holdout(tmp_path: Path) -> None:
    """The holdout is only scored: its misses never reach the screen."""
    file = tmp_path / "holdout.yaml"
    file.write_text("- {q: 'Wie wird das Wetter morgen?', expect: amtsleitung, kind: paraphrase}\n", encoding="utf-8")
    proc = run_cli("eval", "--file", str(file))
    assert proc.returncode == 0, proc.stderr
    assert "in-scope correct 0.000" in proc.stdout
    assert "Wetter" not in proc.stdout and "Misses" not in proc.stdout


def test_no_command_prints_help() -> None:
    proc = run_cli()
    assert proc.returncode == 1 and "faqbot" in proc.stdout
