"""User-facing interface strings, German first, English second. Knowledge texts live in ``knowledge/``."""

from __future__ import annotations

import datetime as dt

from bot.knowledge.model import Lang, Text

SOURCE = Text("Quelle", "Source")
SOURCES = Text("Quellen", "Sources")
AS_OF = Text("Stand", "As of")
TIMELINE = Text("Zeitplan", "Timeline")
RELATED = Text("Verwandte Fragen", "Related questions")
CLARIFY = Text(
    "Da bin ich nicht ganz sicher. Meinten Sie eine dieser Fragen?",
    "I'm not quite sure. Did you mean one of these questions?",
)
CLARIFY_PICK = Text("Antworten Sie mit der Nummer.", "Reply with the number.")
FALLBACK = Text(
    "Das weiß ich leider nicht – dazu steht nichts in meinen Unterlagen. "
    "Ich kenne mich mit der Neuorganisation rund um das Amt für Digitalisierung aus, zu diesen Themen:",
    "Sorry, I don't know that – my sources don't cover it. "
    "I know about the reorganisation around the new Amt für Digitalisierung (digitalisation office), on these topics:",
)
FALLBACK_HINT = Text(
    "Formulieren Sie die Frage gern anders, oder stöbern Sie mit /themen.",
    "Feel free to rephrase your question, or browse with /themen (topics).",
)
NOT_DECIDED = Text("noch offen", "not decided yet")


def fmt_date(value: dt.date, lang: Lang) -> str:
    """24.06.2022 in German, 24 Jun 2022 in English."""
    if lang == "en":
        return value.strftime("%d %b %Y").lstrip("0")
    return value.strftime("%d.%m.%Y")
