"""Rendering: facts resolved, sources and Stand shown, HTML escaped, milestones read live."""

from __future__ import annotations

import dataclasses
import html

from bot.answers import Renderer
from bot.knowledge.model import MilestoneStatus, Text
from bot.service import FaqService


def test_answer_shows_source_and_stand(service: FaqService) -> None:
    text = service.ask("Wann wechselt die Schul-IT?").reply.plain()
    assert "Dezernat II" in text and "Dezernat I" in text
    assert "Quelle" in text and "https://www.kommune21.de" in text
    assert "Stand: 24.06.2022" in text
    assert "{{" not in text


def test_english_answer(service: FaqService) -> None:
    reply = service.ask("When will Schul-IT move?", "en").reply
    assert "As of: 24 Jun 2022" in reply.plain()
    assert "Source" in reply.plain()


def test_html_escapes_everything_from_yaml(service: FaqService) -> None:
    k = service.knowledge
    entry = k.entries["schul-it-wechsel"]
    evil = dataclasses.replace(entry, answer=Text("<b>Böse</b> & {{ fact:schul_it_dezernat_neu }}", "x"))
    reply = Renderer(dataclasses.replace(k, entries={**k.entries, entry.id: evil})).entry(evil, "de")
    rendered = reply.html()
    assert "&lt;b&gt;Böse&lt;/b&gt; &amp;" in rendered
    assert '<a href="https://www.kommune21.de">' in rendered
    assert html.unescape(rendered).count("<b>") == 1  # only the escaped one, no real tag


def test_when_answers_read_the_milestone_status_live(service: FaqService) -> None:
    k = service.knowledge
    entry = k.entries["schul-it-wechsel"]
    (mid,) = entry.milestones
    before = Renderer(k).entry(entry, "de").plain()
    assert "geplant" in before
    done = dataclasses.replace(k.milestones[mid], status=MilestoneStatus.DONE)
    after = Renderer(dataclasses.replace(k, milestones={**k.milestones, mid: done})).entry(entry, "de").plain()
    assert "erledigt" in after and "geplant" not in after


def test_one_fact_edit_changes_every_answer_that_uses_it(service: FaqService) -> None:
    k = service.knowledge
    fact = k.facts["schul_it_dezernat_neu"]
    changed = dataclasses.replace(fact, value=Text("Dezernat XIV", "Department XIV"))
    renderer = Renderer(dataclasses.replace(k, facts={**k.facts, fact.name: changed}))
    users = [e for e in k.entries.values() if "fact:schul_it_dezernat_neu" in e.answer.de.replace(" ", "")]
    assert users
    for entry in users:
        assert "Dezernat XIV" in renderer.entry(entry, "de").plain()


def test_clarify_and_fallback_texts(service: FaqService) -> None:
    fallback = service.ask("Wie wird das Wetter morgen?").reply
    assert "weiß ich leider nicht" in fallback.plain()
    assert "Schul-IT" in fallback.plain()  # the topics the bot knows about
    assert fallback.sources == ()
