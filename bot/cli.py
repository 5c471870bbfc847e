"""Command line: ``faqbot ask | chat | check | eval | run | announce | announcements``.

Everything but ``run`` works offline, without a Telegram token.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot import texts
from bot.answers import Option, Reply
from bot.knowledge.loader import load_knowledge
from bot.knowledge.model import LANGS, Lang
from bot.service import Answer, FaqService, KnowledgeInvalid

if TYPE_CHECKING:
    from bot.broadcast import Outbox, Report
    from bot.knowledge.model import Milestone

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INVALID = 2

DEFAULT_KNOWLEDGE = "knowledge"
DEFAULT_EVAL_DIR = "tests/eval"  # faqbot eval without --file: its development sets (never the holdout)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_FAILED
    try:
        return int(args.func(args))
    except KnowledgeInvalid as exc:
        print(f"Die Wissensbasis ist fehlerhaft ({len(exc.result.errors)} Fehler):", file=sys.stderr)
        for problem in exc.result.errors:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="faqbot", description="FAQ-Bot zur Neuorganisation der Stadtverwaltung Konstanz (Amt für Digitalisierung)"
    )
    parser.add_argument(
        "--knowledge",
        default=os.environ.get("FAQBOT_KNOWLEDGE_DIR", DEFAULT_KNOWLEDGE),
        help="Verzeichnis der Wissensbasis (Standard: $FAQBOT_KNOWLEDGE_DIR oder ./knowledge)",
    )
    sub = parser.add_subparsers(dest="command")

    ask = sub.add_parser("ask", help="eine Frage beantworten (oder '-' für eine Frage pro Zeile von stdin)")
    ask.add_argument("question", nargs="+", help="die Frage, oder '-' für stdin")
    ask.add_argument("--json", action="store_true", help="JSON ausgeben (bei '-' ein Objekt pro Zeile)")
    ask.add_argument("--lang", choices=LANGS, help="Antwortsprache erzwingen")
    ask.set_defaults(func=cmd_ask)

    chat = sub.add_parser("chat", help="interaktives Gespräch im Terminal (ohne Telegram)")
    chat.add_argument("--lang", choices=LANGS, help="Antwortsprache erzwingen")
    chat.set_defaults(func=cmd_chat)

    check = sub.add_parser("check", help="Wissensbasis prüfen")
    check.add_argument("directory", nargs="?", help="Verzeichnis (Standard: --knowledge)")
    check.add_argument("--json", action="store_true", help="Befunde als JSON ausgeben")
    check.add_argument("--strict", action="store_true", help="auch bei Warnungen mit Fehlercode enden")
    check.set_defaults(func=cmd_check)

    ev = sub.add_parser("eval", help="Trefferquote auf einem Fragenkatalog messen")
    ev.add_argument("--file", action="append", help="YAML-Fragenkatalog (mehrfach möglich)")
    ev.add_argument("--json", action="store_true", help="Kennzahlen als JSON ausgeben")
    ev.set_defaults(func=cmd_eval)

    run = sub.add_parser("run", help="den Telegram-Bot starten (Konfiguration aus der Umgebung)")
    run.set_defaults(func=cmd_run)

    ann = sub.add_parser("announce", help="einen Meilenstein an die abonnierten Gruppen senden")
    ann.add_argument("milestone", help="Kennung des Meilensteins (siehe knowledge/milestones.yaml)")
    ann.add_argument("--dry-run", action="store_true", help="nur die Empfänger auflisten, nichts senden")
    ann.add_argument("--yes", action="store_true", help="ohne Rückfrage senden")
    ann.add_argument(
        "--force", action="store_true", help="erneut ankündigen (nur an Gruppen, die ihn noch nicht haben)"
    )
    ann.set_defaults(func=cmd_announce)

    anns = sub.add_parser("announcements", help="bisherige Ankündigungen mit Zustellzahlen auflisten")
    anns.add_argument("--json", action="store_true", help="als JSON ausgeben")
    anns.add_argument("--limit", type=int, default=50, help="höchstens so viele (neueste zuerst)")
    anns.set_defaults(func=cmd_announcements)

    from bot import cli_learned  # here, not at the top: cli_learned uses this module's exit codes and data dir

    cli_learned.add_parser(sub)
    return parser


# -- ask ----------------------------------------------------------------------------------------------------


def answer_json(service: FaqService, question: str, answer: Answer) -> dict[str, object]:
    """The JSON contract of ``faqbot ask --json``."""
    match, reply = answer.match, answer.reply
    suggestions = []
    for option in reply.options:
        entry_reply = service.entry_reply(option.entry_id, reply.lang)
        suggestions.append(
            {"id": option.entry_id, "question": option.label, "answer": entry_reply.plain() if entry_reply else ""}
        )
    return {
        "question": question,
        "status": match.status,
        "id": match.entry_id if match.status == "answer" else None,
        "score": round(match.score),
        "answer": reply.plain(),
        "suggestions": suggestions,
        "lang": reply.lang,
        "smalltalk": match.entry_id if match.status == "smalltalk" else None,
        "sources": [{"url": s.url, "title": s.title} for s in reply.sources],
        "as_of": reply.as_of.isoformat() if reply.as_of else None,
    }


def cmd_ask(args: argparse.Namespace) -> int:
    service = FaqService.from_directory(args.knowledge)
    if args.question == ["-"]:
        questions: Iterable[str] = (line.rstrip("\n") for line in sys.stdin)
    else:
        questions = [" ".join(args.question)]
    for question in questions:
        if not question.strip():
            continue
        answer = service.ask(question, args.lang)
        if args.json:
            print(json.dumps(answer_json(service, question, answer), ensure_ascii=False), flush=True)
        else:
            print(_with_numbers(answer.reply))
            print(flush=True)
    return EXIT_OK


def _with_numbers(reply: Reply) -> str:
    text = reply.plain()
    if reply.related:
        lines = [f"{texts.RELATED.get(reply.lang)}:"] + [f"  {i}. {o.label}" for i, o in enumerate(reply.related, 1)]
        text += "\n\n" + "\n".join(lines)
    return text


# -- chat ---------------------------------------------------------------------------------------------------

CHAT_HELP = {
    "de": (
        "Stellen Sie einfach Ihre Frage. Eine Zahl wählt eine der angebotenen Fragen.\n"
        "Befehle: /themen, /meilensteine, /sprache de|en, /hilfe, /ende"
    ),
    "en": (
        "Just ask your question. A number picks one of the offered questions.\n"
        "Commands: /themen (topics), /meilensteine (milestones), /sprache de|en, /hilfe, /ende (quit)"
    ),
}


class ChatSession:
    """The terminal conversation: same decisions as the Telegram bot, options selectable by number."""

    def __init__(self, service: FaqService, out: TextIO, lang: Lang | None = None) -> None:
        self.service = service
        self.out = out
        self.forced_lang = lang
        self.lang: Lang = lang or "de"
        self.options: list[Option] = []

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def handle(self, line: str) -> bool:
        """Handle one input line; False means the user wants to leave."""
        line = line.strip()
        if not line:
            return True
        if line.startswith("/"):
            return self._command(line)
        if line.isdigit() and self.options:
            index = int(line) - 1
            if 0 <= index < len(self.options):
                self._show_entry(self.options[index].entry_id)
            else:
                self.say(
                    f"Bitte eine Zahl von 1 bis {len(self.options)}."
                    if self.lang == "de"
                    else f"Please pick a number from 1 to {len(self.options)}."
                )
            return True
        answer = self.service.ask(line, self.forced_lang)
        self.lang = answer.reply.lang
        self._show(answer.reply)
        return True

    def _show(self, reply: Reply) -> None:
        self.options = list(reply.options or reply.related)
        self.say(_with_numbers(reply) if reply.status != "clarify" else reply.plain())
        if reply.status == "clarify":
            self.say(texts.CLARIFY_PICK.get(reply.lang))

    def _show_entry(self, entry_id: str) -> None:
        reply = self.service.entry_reply(entry_id, self.lang)
        if reply is not None:
            self._show(reply)

    def _command(self, line: str) -> bool:
        command, _, rest = line.partition(" ")
        command = command.lower()
        renderer = self.service.snapshot.renderer
        if command in ("/ende", "/quit", "/exit"):
            return False
        if command in ("/hilfe", "/help", "/start"):
            self.say(CHAT_HELP[self.lang])
        elif command in ("/themen", "/topics"):
            self.options = []
            for title, options in renderer.topics_overview(self.lang):
                self.say(title)
                for option in options:
                    self.options.append(option)
                    self.say(f"  {len(self.options)}. {option.label}")
        elif command in ("/meilensteine", "/milestones"):
            self.say("\n".join(f"• {line}" for line in renderer.timeline(self.lang)))
        elif command in ("/sprache", "/language"):
            choice = rest.strip().lower()
            if choice in LANGS:
                self.lang = self.forced_lang = choice
                self.say("Sprache: Deutsch" if choice == "de" else "Language: English")
            else:
                self.say("/sprache de  oder  /sprache en")
        else:
            self.say(("Unbekannter Befehl. " if self.lang == "de" else "Unknown command. ") + CHAT_HELP[self.lang])
        return True


def cmd_chat(args: argparse.Namespace) -> int:
    service = FaqService.from_directory(args.knowledge)
    session = ChatSession(service, sys.stdout, args.lang)
    interactive = sys.stdin.isatty()
    k = service.knowledge
    session.say(
        f"faqbot – Fragen zum Amt für Digitalisierung ({len(k.entries)} Einträge, Stand der Wissensbasis "
        f"{k.version}).\n{CHAT_HELP['de']}"
    )
    while True:
        try:
            line = input("\nSie: " if interactive else "")
        except EOFError:
            break
        if not session.handle(line):
            break
    return EXIT_OK


# -- check --------------------------------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    import datetime as dt
    import time

    from bot.config import DB_FILENAME
    from bot.knowledge.yamlnodes import Problem
    from bot.lint import CATEGORY_LABELS, stale_items
    from bot.service import prepare
    from bot.storage import Store

    def count(found: list[Problem]) -> str:
        """``0``, ``1 Fehler``, ``2 Warnungen``, ``1 Fehler, 1 Warnung``."""
        n_errors = sum(1 for p in found if p.severity == "error")
        n_warnings = len(found) - n_errors
        parts = [f"{n_errors} Fehler"] if n_errors else []
        if n_warnings:
            parts.append(f"{n_warnings} Warnung{'en' if n_warnings > 1 else ''}")
        return ", ".join(parts) or "0"

    directory = Path(args.directory or args.knowledge)
    today = dt.date.today()
    started = time.perf_counter()
    result = load_knowledge(directory, today=today)
    k = result.knowledge
    problems = result.problems
    stale = []
    if k is not None:  # exactly what the bot does before a version goes live
        problems = prepare(k, (), result.problems, today=today).result.problems
        stale = stale_items(k, today)
    seconds = time.perf_counter() - started
    data = _data_dir(require_token=False)
    live = Store.peek_live(data[1] / DB_FILENAME) if not isinstance(data, int) else None
    problems.sort(key=lambda p: (p.file, p.line))
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    if args.json:
        payload = {
            "ok": k is not None and not errors,
            "version": k.version if k else None,
            "entries": len(k.entries) if k else None,
            "seconds": round(seconds, 3),
            "live": None
            if live is None
            else {
                "version": live.version,
                "files_version": live.files_version,
                "entries": live.entries,
                "learned": live.learned,
                "loaded_at": live.loaded_at.isoformat(),
                "current": k is not None and live.files_version == k.version,
            },
            "problems": [
                {
                    "file": p.file,
                    "line": p.line,
                    "path": p.path,
                    "message": p.message,
                    "severity": p.severity,
                    "category": p.category,
                }
                for p in problems
            ],
            "stale": [
                {
                    "kind": s.kind,
                    "id": s.id,
                    "review_by": s.review_by.isoformat(),
                    "owner": s.owner,
                    "file": s.file,
                    "line": s.line,
                }
                for s in stale
            ],
        }
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        counts = []
        for category, label in CATEGORY_LABELS.items():
            found = [p for p in errors + warnings if p.category == category]
            counts.append(f"{label}: {count(found)}")
            if found:
                print(f"{label} ({count(found)})")
                for problem in found:
                    print(f"  {'FEHLER ' if problem.severity == 'error' else 'WARNUNG'}  {problem}")
        if k is not None:
            print(
                f"{'OK' if not errors else 'NICHT OK'}: Version {k.version}, {len(k.entries)} Einträge, "
                f"{len(k.facts)} Fakten, {len(k.milestones)} Meilensteine, {len(k.synonyms)} Synonymgruppen, "
                f"{len(k.smalltalk)} Smalltalk – {', '.join(counts)}"
            )
        else:
            print(f"Nicht geladen: {len(errors)} Fehler. Die bisherige Version bleibt aktiv.")
        print(f"Geprüft in {seconds:.2f} s.")
        if live is not None:
            same = k is not None and live.files_version == k.version
            print(
                f"Im Bot aktiv: Version {live.files_version} (mit {live.learned} gelernten Formulierungen: "
                f"{live.version}), {live.entries} Einträge, geladen {live.loaded_at:%Y-%m-%d %H:%M} UTC – "
                + ("entspricht diesen Dateien." if same else "weicht von diesen Dateien ab (/reload oder warten).")
            )
    if errors:
        return EXIT_INVALID
    return EXIT_FAILED if args.strict and warnings else EXIT_OK


# -- eval ---------------------------------------------------------------------------------------------------


def cmd_eval(args: argparse.Namespace) -> int:
    from bot.evaluation import HOLDOUT, development_sets, evaluate, load_items

    service = FaqService.from_directory(args.knowledge)
    files = args.file or [str(p) for p in development_sets(Path(DEFAULT_EVAL_DIR))]
    if not files:
        print("Kein Fragenkatalog gefunden (--file angeben).", file=sys.stderr)
        return EXIT_FAILED
    results = {}
    for file in files:
        report = evaluate(load_items([file]), service.snapshot.matcher.match)
        results[file] = report
        if not args.json:
            print(f"== {file}")
            # The holdout is only scored: its misses are not shown, so nobody tunes on them by accident.
            print(report.summary() if Path(file).name == HOLDOUT else report.text())
            print()
    if args.json:
        print(
            json.dumps(
                {
                    f: {
                        "in_scope_correct": r.in_scope_correct,
                        "answered_right": r.answered_right,
                        "clarify": r.clarified,
                        "out_of_scope_refused": r.out_of_scope_refused,
                        "confident_wrong": r.confident_wrong,
                        "n": len(r.outcomes),
                    }
                    for f, r in results.items()
                },
                indent=2,
            )
        )
    return EXIT_OK


# -- run ----------------------------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    from bot.config import ConfigError, Settings

    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"Konfigurationsfehler: {exc}", file=sys.stderr)
        return EXIT_INVALID
    from bot.tg.app import run

    return run(settings)


# -- announce / announcements -------------------------------------------------------------------------------


def _data_dir(require_token: bool) -> tuple[object | None, Path] | int:
    """(settings or None, data dir); an exit code if the environment is unusable."""
    from bot.config import ConfigError, Settings

    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        if require_token:
            print(f"Konfigurationsfehler: {exc}", file=sys.stderr)
            return EXIT_INVALID
        return None, Path(os.environ.get("FAQBOT_DATA_DIR", "").strip() or "data")
    return settings, settings.data_dir


def _progress_bar(report: object, out: TextIO = sys.stderr) -> None:
    from bot.broadcast import Report

    assert isinstance(report, Report)
    width = 30
    filled = width * report.done // report.total if report.total else width
    out.write(
        f"\r[{'#' * filled}{'-' * (width - filled)}] {report.done}/{report.total}"
        f"  gesendet {report.sent}  fehlgeschlagen {report.failed}  entfernt {report.removed}"
        f"  unklar {report.unknown}"
    )
    if not report.pending:
        out.write("\n")
    out.flush()


def cmd_announce(args: argparse.Namespace) -> int:
    import asyncio

    from bot.broadcast import NothingToSend, Outbox

    found = _data_dir(require_token=not args.dry_run)
    if isinstance(found, int):
        return found
    settings, data_dir = found
    service = FaqService.from_directory(args.knowledge)
    milestones = service.knowledge.milestones
    milestone = milestones.get(args.milestone)
    if milestone is None:
        print(f"Meilenstein {args.milestone!r} unbekannt; vorhanden: {', '.join(milestones)}", file=sys.stderr)
        return EXIT_INVALID
    with Outbox(data_dir / "faqbot.sqlite3") as outbox:
        if args.dry_run:
            announcement_id, plan = outbox.create(milestone.id, milestone.tags, "cli", dry_run=True)
            for r in plan.recipients:
                print(f"{r.chat_id}\t{r.lang}\t{r.title}")
            print(
                f"Probelauf #{announcement_id}: {len(plan.recipients)} Gruppe(n) würden {milestone.id!r} erhalten"
                f" ({plan.already_reached} haben ihn schon); nichts gesendet.",
                file=sys.stderr,
            )
            return EXIT_OK
        unfinished = outbox.unfinished(milestone.id)
        if unfinished is not None:
            announcement_id = unfinished
            in_doubt = outbox.recover(announcement_id)
            print(
                f"Setze unterbrochene Ankündigung #{announcement_id} fort ({in_doubt} unklare Zustellungen werden"
                " nicht erneut gesendet)",
                file=sys.stderr,
            )
        else:
            plan = outbox.plan(milestone.id, milestone.tags)
            if plan.previous and not args.force:
                print(
                    f"{milestone.id!r} wurde schon angekündigt (#{', #'.join(map(str, plan.previous))}). Mit --force"
                    f" geht er an die {len(plan.recipients)} Gruppe(n), die ihn noch nicht erhalten haben.",
                    file=sys.stderr,
                )
                return EXIT_FAILED
            if not plan.recipients:
                print("Keine abonnierte Gruppe würde diese Ankündigung erhalten.", file=sys.stderr)
                return EXIT_OK
            if not args.yes:
                sys.stderr.write(f"{milestone.id!r} an {len(plan.recipients)} Gruppe(n) senden? [j/N] ")
                sys.stderr.flush()
                if sys.stdin.readline().strip().lower() not in ("j", "ja", "y", "yes"):
                    print("Abgebrochen; nichts gesendet.", file=sys.stderr)
                    return EXIT_FAILED
            try:
                announcement_id, _ = outbox.create(milestone.id, milestone.tags, "cli", force=args.force)
            except NothingToSend:
                print("Keine abonnierte Gruppe würde diese Ankündigung erhalten.", file=sys.stderr)
                return EXIT_OK
        report = asyncio.run(_send_announcement(settings, outbox, announcement_id, milestone))
    from bot.tg.announce import report_text

    print(report_text(report, "de", milestone.title.get("de")))
    return EXIT_OK if not (report.failed or report.unknown or report.pending) else EXIT_FAILED


async def _send_announcement(settings: object, outbox: Outbox, announcement_id: int, milestone: Milestone) -> Report:
    from telegram.ext import ApplicationBuilder

    from bot.config import Settings
    from bot.tg.announce import deliver
    from bot.tg.app import default_rate_limiter

    assert isinstance(settings, Settings)
    builder = ApplicationBuilder().token(settings.token).rate_limiter(default_rate_limiter())
    if settings.base_url:
        builder = builder.base_url(settings.base_url)
    app = builder.updater(None).build()
    async with app:
        return await deliver(app.bot, outbox, announcement_id, milestone, progress=_progress_bar, progress_interval=0.2)


def cmd_announcements(args: argparse.Namespace) -> int:
    from bot.broadcast import Outbox

    found = _data_dir(require_token=False)
    assert not isinstance(found, int)
    _, data_dir = found
    with Outbox(data_dir / "faqbot.sqlite3") as outbox:
        reports = outbox.announcements(max(1, args.limit))
    if args.json:
        print(json.dumps([r.as_dict() for r in reports], ensure_ascii=False, indent=2))
        return EXIT_OK
    if not reports:
        print("Noch keine Ankündigungen.")
        return EXIT_OK
    print("#     Meilenstein               erstellt (UTC)        von       Status   gesendet fehlg. entf. unklar offen")
    for r in reports:
        status = "probe" if r.dry_run else r.status
        print(
            f"{r.id:<5} {r.milestone_id[:25]:<25} {r.created_at:%Y-%m-%d %H:%M}      {r.created_by:<9} {status:<8}"
            f" {r.sent:>8} {r.failed:>6} {r.removed:>5} {r.unknown:>6} {r.pending:>5}"
        )
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
