"""``faqbot learned list | export | remove``: the phrasings admins attached to entries in Telegram.

They live in the bot's database (``$FAQBOT_DATA_DIR/faqbot.sqlite3``), not in the knowledge files; ``export``
writes them as YAML for editors to merge into ``knowledge/*.yaml``, ``remove`` deletes the merged ones.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.cli import EXIT_FAILED, EXIT_OK, _data_dir
from bot.config import DB_FILENAME
from bot.knowledge.learned import LearnedPhrasing, export_yaml
from bot.knowledge.loader import load_knowledge
from bot.service import KnowledgeInvalid
from bot.storage import Store


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``learned`` with its sub-commands to the ``faqbot`` parser; ``args.func`` is :func:`run`."""
    learned = subparsers.add_parser("learned", help="im Bot gelernte Formulierungen auflisten, exportieren, löschen")
    learned.set_defaults(func=run)
    sub = learned.add_subparsers(dest="learned_command", required=True, metavar="{list,export,remove}")
    sub.add_parser("list", help="alle gelernten Formulierungen (Nr., Eintrag, Sprache, Datum, Text)")
    export = sub.add_parser("export", help="als YAML zum Übernehmen in die Wissensbasis ausgeben")
    export.add_argument("--out", type=Path, help="in diese Datei schreiben (Standard: Standardausgabe)")
    export.add_argument(
        "--knowledge",
        default=argparse.SUPPRESS,
        help="Verzeichnis der Wissensbasis, für Datei und Zeile der Einträge (Standard: $FAQBOT_KNOWLEDGE_DIR "
        "oder ./knowledge)",
    )
    remove = sub.add_parser("remove", help="gelernte Formulierungen löschen (z. B. nach dem Übernehmen)")
    remove.add_argument("ids", nargs="+", type=int, metavar="NR", help="Nummer(n) aus 'faqbot learned list'")


def _db_path() -> Path:
    found = _data_dir(require_token=False)
    assert not isinstance(found, int)  # without a required token it always finds a directory
    return found[1] / DB_FILENAME


def run(args: argparse.Namespace) -> int:
    path = _db_path()
    if args.learned_command == "list":
        return _list(_stored(path))
    if args.learned_command == "export":
        return _export(_stored(path), args)
    if not path.exists():
        print(f"Keine Datenbank unter {path}; nichts zu löschen.", file=sys.stderr)
        return EXIT_FAILED
    with Store.open(path) as store:
        return _remove(store, args.ids)


def _stored(path: Path) -> list[LearnedPhrasing]:
    """The learned phrasings in the database at ``path``; none if there is no database (none is created)."""
    if not path.exists():
        return []
    with Store.open(path) as store:
        return store.learned()


def _list(learned: list[LearnedPhrasing]) -> int:
    if not learned:
        print("Noch keine gelernten Formulierungen.")
        return EXIT_OK
    print("Nr.    Eintrag                          Sprache  gelernt am  Text")
    for item in learned:
        print(f"{item.id:<6} {item.entry_id[:32]:<32} {item.lang:<8} {item.added_at:%d.%m.%Y}  {item.text}")
    return EXIT_OK


def _export(learned: list[LearnedPhrasing], args: argparse.Namespace) -> int:
    result = load_knowledge(args.knowledge)  # the top-level --knowledge, or export's own
    if result.knowledge is None:
        raise KnowledgeInvalid(result)  # bot.cli.main reports it
    text = export_yaml(learned, result.knowledge)
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
        print(f"{len(learned)} gelernte Formulierung(en) nach {args.out} geschrieben.", file=sys.stderr)
    return EXIT_OK


def _remove(store: Store, ids: list[int]) -> int:
    missing = []
    for learned_id in dict.fromkeys(ids):
        if store.remove_learned(learned_id):
            print(f"Nr. {learned_id} gelöscht.")
        else:
            missing.append(learned_id)
    if missing:
        print(f"Nicht gefunden: Nr. {', '.join(map(str, missing))} (siehe 'faqbot learned list').", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
