"""README promises, and the hidden checks that keep each of them.

A topic's README section ``## What you implement`` is its contract. Each
sentence there - and each ``;``-separated clause of a sentence - is a *promise*
(shapes, errors, edge cases, boundaries). Every promise must be kept by a hidden
check that exercises it on every run, or be declared as promising no behaviour:

* a hidden check names the promises it exercises with fragments copied verbatim
  from the README: ``@check("...", promises=["A negative index counts from the end"])``;
* a hidden check module lists the clauses that promise no behaviour (a hint, a
  pointer to another topic) in ``NOT_BEHAVIOUR = {"fragment": "why not checked"}``.

``llmkit promises [TOPICS]`` prints each promise with its checks;
``tests/test_promises.py`` fails on a promise nobody keeps, and on a fragment
that is no longer in the README (so a reworded README cannot silently drop one).
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field

from llmkit import registry
from llmkit.checks import hidden_checks

SECTION = "## What you implement"
# abbreviations whose full stop does not end a sentence
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "cf.")


@dataclass
class Promise:
    """One clause of a README's contract, with the hole it belongs to (``None`` for prose)."""

    hole: str | None
    text: str
    checks: list[str] = field(default_factory=list)  # hidden checks keeping it
    exempt: str = ""  # why it promises no behaviour

    @property
    def kept(self) -> bool:
        return bool(self.checks or self.exempt)


def normalize(text: str) -> str:
    return " ".join(text.split())


def _clauses(text: str) -> list[str]:
    """Sentences and ``;``-separated clauses of ``text`` (abbreviations and code spans such as
    ```x . y``` do not end one)."""
    spans: list[str] = []

    def hide(match: re.Match) -> str:
        spans.append(match.group(0))
        return f"\x01{len(spans) - 1}\x01"

    protected = re.sub(r"`[^`]*`", hide, text)
    for i, abbreviation in enumerate(_ABBREVIATIONS):
        protected = protected.replace(abbreviation, f"\0{i}\0")
    parts = re.split(r"(?<=[.;!?])\s+(?=\S)", protected)
    out = []
    for part in parts:
        for i, abbreviation in enumerate(_ABBREVIATIONS):
            part = part.replace(f"\0{i}\0", abbreviation)
        part = re.sub("\x01(\\d+)\x01", lambda m: spans[int(m.group(1))], part)
        part = normalize(part)
        if part.strip(" .;"):
            out.append(part)
    return out


def _cells(row: str) -> list[str]:
    """The cells of a Markdown table row (``\\|`` is a literal pipe)."""
    inner = row.strip().removeprefix("|").removesuffix("|")
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", inner)]


def contract_text(topic: registry.Topic) -> str:
    """The README's ``## What you implement`` section (empty if there is none)."""
    readme = (registry.COURSE_DIR / topic.package / "README.md").read_text(encoding="utf-8")
    start = readme.find(SECTION)
    if start < 0:
        return ""
    body = readme[start + len(SECTION):]
    end = re.search(r"^## ", body, flags=re.M)
    return body[: end.start()] if end else body


def readme_promises(topic: registry.Topic) -> list[Promise]:
    """Every clause of the contract section, in README order."""
    promises: list[Promise] = []
    paragraph: list[str] = []
    fenced = False

    def flush() -> None:
        if paragraph:
            promises.extend(Promise(None, c) for c in _clauses(" ".join(paragraph)))
            paragraph.clear()

    for line in contract_text(topic).splitlines():
        if line.strip().startswith("```"):
            fenced = not fenced
            flush()
            continue
        if fenced:
            continue
        if line.strip().startswith("|"):
            flush()
            cells = _cells(line)
            if len(cells) < 2 or set("".join(cells)) <= set("-: ") or cells[0] in ("hole", "function"):
                continue  # the header and the separator row
            hole = cells[0].strip("`")
            # a pipe inside code (`<|endoftext|>`) splits a cell too: put it back
            promises.extend(Promise(hole, c) for c in _clauses("|".join(cells[1:])))
        elif not line.strip():
            flush()
        else:
            paragraph.append(line.strip())
    flush()
    return promises


def not_behaviour(topic: registry.Topic) -> dict[str, str]:
    """``NOT_BEHAVIOUR`` of the topic's hidden check module (fragment -> why)."""
    try:
        module = importlib.import_module(f"autograder.hidden.{topic.package}")
    except ModuleNotFoundError:
        return {}
    return dict(getattr(module, "NOT_BEHAVIOUR", {}))


@dataclass
class Coverage:
    promises: list[Promise]
    stale: list[str]  # fragments (with their owner) found in no promise

    @property
    def unkept(self) -> list[Promise]:
        return [p for p in self.promises if not p.kept]


def coverage(topic: registry.Topic) -> Coverage:
    """Match the topic's promises with its hidden checks' fragments and its exemptions."""
    promises = readme_promises(topic)
    stale = []

    def matching(fragment: str) -> list[Promise]:
        wanted = normalize(fragment)
        return [p for p in promises if wanted in p.text]

    for chk in hidden_checks(topic):
        for fragment in chk.promises:
            found = matching(fragment)
            if not found:
                stale.append(f"check {chk.name}: {fragment!r}")
            for p in found:
                p.checks.append(chk.name)
    for fragment, why in not_behaviour(topic).items():
        found = matching(fragment)
        if not found:
            stale.append(f"NOT_BEHAVIOUR: {fragment!r}")
        for p in found:
            p.exempt = why
    return Coverage(promises, stale)
