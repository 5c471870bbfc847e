"""Safe YAML parsing that keeps line numbers and refuses what bites editors.

We parse to PyYAML *nodes* (never to arbitrary Python objects) with the SafeLoader's resolver, so every value
still knows its line. Anchors/aliases are refused outright (no "billion laughs"), duplicate keys are refused
(PyYAML silently keeps the last one), and files above a size limit are not parsed at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_FILE_BYTES = 1_000_000

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding in a knowledge file, shown to editors as ``file:line: key.path: message``."""

    file: str
    line: int
    path: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        key = f" {self.path}:" if self.path else ""
        return f"{where}:{key} {self.message}"


class YamlRefused(Exception):
    """The file cannot be read as YAML; carries a :class:`Problem`."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


class _StrictComposer(yaml.SafeLoader):
    """SafeLoader whose composer refuses anchors and aliases."""

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
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
                None,
                None,
                f"Anker &{anchor} sind nicht erlaubt (bitte Text ausschreiben)",
                event.start_mark,
            )
        return super().compose_node(parent, index)


def parse_file(text: str, file: str) -> Node | None:
    """Parse ``text`` to a node tree. Raises :class:`YamlRefused` with the line of the first problem."""
    if len(text.encode("utf-8", "replace")) > MAX_FILE_BYTES:
        raise YamlRefused(
            Problem(file, 0, "", f"Datei ist größer als {MAX_FILE_BYTES // 1000} kB und wird nicht gelesen")
        )
    loader = _StrictComposer(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        what = exc.problem or exc.context or "ungültiges YAML"
        raise YamlRefused(Problem(file, line, "", f"YAML-Syntaxfehler: {_german(what)}")) from None
    except yaml.YAMLError as exc:
        raise YamlRefused(Problem(file, 0, "", f"YAML-Syntaxfehler: {exc}")) from None
    finally:
        loader.dispose()
    if node is not None:
        _refuse_duplicate_keys(node, file)
    return node


_TRANSLATIONS = {
    "found character '\\t' that cannot start any token": "Tabulatorzeichen sind nicht erlaubt (Leerzeichen benutzen)",
    "mapping values are not allowed here": "Doppelpunkt an falscher Stelle (Text mit ':' in Anführungszeichen setzen)",
    "could not find expected ':'": "es fehlt ein ':' nach dem Schlüssel",
    "found unexpected end of stream": "Datei endet unerwartet (fehlt ein Anführungszeichen?)",
    "expected <block end>, but found '-'": "Einrückung der Liste stimmt nicht",
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
