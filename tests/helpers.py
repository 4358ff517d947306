"""Shared scaffolding for the kit's own tests."""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

from llmkit import registry, resolver, stubgen
from llmkit.checks import hidden_checks, public_checks

TOPICS = registry.available()
TOPIC_IDS = [t.package for t in TOPICS]
SOLUTIONS = resolver.named_root("solutions")
ALTERNATIVES = Path(__file__).parent / "alternatives"


def stub_tree(tmp: Path) -> Path:
    """A fresh copy of the generated stubs (the learner's untouched starting point)."""
    stubgen.write_stubs(TOPICS, tmp)
    return tmp


def copy_reference(topic: registry.Topic, tmp: Path) -> Path:
    """A private copy of one topic's reference folder, to plant a bug in."""
    target = tmp / topic.package
    shutil.copytree(SOLUTIONS / topic.package, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def only_topic_from(topic: registry.Topic, root: Path) -> str:
    """Resolver spec: every topic from the reference except ``topic``, taken from ``root``."""
    return f"solutions,{topic.number}={root}"


def mutants(topic: registry.Topic) -> list[tuple[str, str, str, str]]:
    """Planted bugs for a topic: ``(file, old text, new text, description)``."""
    try:
        module = importlib.import_module(f"tests.mutants.{topic.package}")
    except ModuleNotFoundError:
        return []
    return list(module.MUTANTS)


def all_checks(topic: registry.Topic):
    return public_checks(topic), hidden_checks(topic)
