"""Safe YAML parsing that keeps line numbers and refuses what bites editors.

We parse to PyYAML *nodes* (never to arbitrary Python objects) with the SafeLoader's resolver, so every value
still knows its line. Anchors/aliases are refused outright (no "billion laughs"), duplicate keys are refused
(PyYAML silently keeps the last one), and files above a size limit are not parsed at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_FILE_BYTES = 1_000_000

Severity = Literal["error", "warning"]
# What kind of finding (``faqbot check`` groups by it): the loader's are "load"; :mod:`bot.lint` adds the others.
Category = Literal["load", "self-test", "confusable", "coverage", "review"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding in a knowledge file, shown to editors as ``file:line: key.path: message``."""

    file: str
    line: int
    path: str
    message: str
    severity: Severity = "error"
    category: Category = "load"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        key = f"{self.path}:" if self.path else ""
        return " ".join(part for part in (f"{where}:" if where else "", key, self.message) if part)


class YamlRefused(Exception):
    """The file cannot be read as YAML; carries a :class:`Problem`."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


# libyaml is ~15x faster than the pure-Python parser: a refused reload must stay cheap even for a file just
# under the size limit. Both parsers produce the same node trees; the messages below cover both.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_file(text: str, file: str) -> Node | None:
    """Parse ``text`` to a node tree. Raises :class:`YamlRefused` with the line of the first problem."""
    if len(text) > MAX_FILE_BYTES or len(text.encode("utf-8", "replace")) > MAX_FILE_BYTES:
        raise YamlRefused(
            Problem(file, 0, "", f"Datei ist größer als {MAX_FILE_BYTES // 1000} kB und wird nicht gelesen")
        )
    try:
        if "&" in text or "*" in text:  # anchors and aliases need one of these characters
            _refuse_anchors(text)
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        raise YamlRefused(_syntax_problem(exc, text, file)) from None
    except yaml.reader.ReaderError as exc:
        raise YamlRefused(_reader_problem(exc, text, file)) from None
    except yaml.YAMLError as exc:
        raise YamlRefused(Problem(file, 0, "", f"YAML-Syntaxfehler: {exc}")) from None
    if node is not None:
        _refuse_duplicate_keys(node, file)
    return node


def _refuse_anchors(text: str) -> None:
    """Raise at the first anchor (``&a``) or alias (``*a``): no "billion laughs", no hidden copies of text."""
    loader = _Loader(text)
    try:
        while loader.check_event():
            event = loader.get_event()  # type: ignore[no-untyped-call]
            if isinstance(event, AliasEvent):
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    "Verweise mit * (YAML-Aliase) sind nicht erlaubt",
                    event.start_mark,  # type: ignore[arg-type]
                )
            anchor = getattr(event, "anchor", None)
            if anchor is not None:
                raise yaml.composer.ComposerError(
                    None, None, f"Anker &{anchor} sind nicht erlaubt (bitte Text ausschreiben)", event.start_mark
                )
    finally:
        loader.dispose()


def _syntax_problem(exc: yaml.MarkedYAMLError, text: str, file: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else 0
    what = _german(exc.problem or exc.context or "ungültiges YAML")
    if mark is not None and _char_at(text, mark.line, mark.column) == "\t":
        what = "Tabulatorzeichen sind nicht erlaubt (Leerzeichen benutzen)"
    if exc.context and "quoted scalar" in exc.context and exc.context_mark is not None:
        line = exc.context_mark.line + 1  # an unclosed quote: the error is at the end of the file
        what = "Anführungszeichen wird nicht geschlossen"
    elif exc.context and "flow" in exc.context and exc.context_mark is not None and exc.context_mark.line + 1 < line:
        # An unclosed '[' or '{': the parser notices at the next list item, which may be lines (comments) later.
        opened = exc.context_mark.line + 1
        what += f" (bemerkt in Zeile {line}); die Klammer in Zeile {opened} wird nicht geschlossen"
        line = opened
    else:
        opened = _unclosed_quote_before(text, line)
        if opened:
            what += f" (Zeile {line}); vermutlich fehlt das schließende Anführungszeichen in Zeile {opened}"
            line = opened
    return Problem(file, line, "", f"YAML-Syntaxfehler: {what}")


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.split("\n", line + 1)
    return lines[line][column : column + 1] if line < len(lines) else ""


_STRUCTURE_RE = re.compile(r"^\s*(- |[\w-]+:(\s|$))")


def _unclosed_quote_before(text: str, error_line: int) -> int:
    """The start line of a quoted text that swallowed following lines (a missing quote), or 0.

    Knowledge files never need quoted texts over several lines; one that spans lines looking like list items or
    keys is almost certainly missing its closing quote, and the parser only notices where the text ends.
    """
    lines = text.split("\n")
    found = 0
    try:
        for token in yaml.scan(text, Loader=_Loader):
            if token.start_mark.line + 1 > error_line:
                break
            if isinstance(token, yaml.ScalarToken) and token.style in ("'", '"'):
                first, last = token.start_mark.line, token.end_mark.line
                if last > first and any(_STRUCTURE_RE.match(ln) for ln in lines[first + 1 : last + 1]):
                    found = first + 1
    except yaml.YAMLError:
        pass  # the scanner stops at the same error; what it saw before is all we need
    return found


def _reader_problem(exc: yaml.reader.ReaderError, text: str, file: str) -> Problem:
    """A character YAML refuses (control characters such as NUL or ESC): say which and where."""
    position = int(exc.position)
    if _Loader is not yaml.SafeLoader:  # libyaml counts bytes of the UTF-8 encoding
        position = len(text.encode("utf-8")[:position].decode("utf-8", "ignore"))
    line = text.count("\n", 0, position) + 1
    char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "?")
    return Problem(file, line, "", f"unerlaubtes Steuerzeichen U+{char:04X} (unsichtbar; bitte Zeile neu tippen)")


_TRANSLATIONS = {  # PyYAML's and libyaml's wording
    "found character '\\t' that cannot start any token": "Tabulatorzeichen sind nicht erlaubt (Leerzeichen benutzen)",
    "found character that cannot start any token": "Zeichen hier nicht erlaubt (Tabulator statt Leerzeichen?)",
    "mapping values are not allowed": "Doppelpunkt an falscher Stelle (Text mit ':' in Anführungszeichen setzen)",
    "could not find expected ':'": "es fehlt ein ':' nach dem Schlüssel",
    "found unexpected end of stream": "Datei endet unerwartet (fehlt ein Anführungszeichen?)",
    "expected <block end>, but found '-'": "Einrückung der Liste stimmt nicht",
    "did not find expected '-' indicator": "Einrückung der Liste stimmt nicht",
    "expected <block end>": "Einrückung stimmt nicht",
    "did not find expected key": "Einrückung stimmt nicht (hier wird ein Schlüssel wie 'topic:' erwartet)",
    "did not find expected ',' or ']'": "es fehlt ein Komma oder die schließende Klammer ']'",
    "did not find expected ',' or '}'": "es fehlt ein Komma oder die schließende Klammer '}'",
    "expected ',' or ']'": "es fehlt ein Komma oder die schließende Klammer ']'",
    "expected ',' or '}'": "es fehlt ein Komma oder die schließende Klammer '}'",
    "block sequence entries are not allowed": "Listenpunkt '- ' an falscher Stelle",
    "did not find expected node content": "hier fehlt ein Wert",
}


def _german(message: str) -> str:
    for english, german in _TRANSLATIONS.items():
        if english in message:
            return german
    return message


def _refuse_duplicate_keys(node: Node, file: str) -> None:
    stack: list[tuple[Node, str]] = [(node, "")]
    while stack:
        current, path = stack.pop()
        if isinstance(current, MappingNode):
            seen: dict[str, int] = {}
            for key_node, value_node in current.value:
                key = str(key_node.value) if isinstance(key_node, ScalarNode) else "?"
                line = line_of(key_node)
                key_path = f"{path}.{key}" if path else key
                if key in seen:
                    raise YamlRefused(
                        Problem(
                            file,
                            line,
                            key_path,
                            f"Schlüssel '{key}' kommt doppelt vor (zuerst in Zeile {seen[key]})",
                        )
                    )
                seen[key] = line
                stack.append((value_node, key_path))
        elif isinstance(current, SequenceNode):
            stack.extend((item, f"{path}[{i}]") for i, item in enumerate(current.value))


def line_of(node: Node) -> int:
    return int(node.start_mark.line) + 1
