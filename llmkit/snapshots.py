"""Reference outputs of the public checks, stored as JSON next to the checks.

``checks/snapshots/tNN_slug.json`` holds, for each public check and each seed in
:data:`llmkit.checks.PUBLIC_SEEDS`, what the reference returned. Students compare
against these files, so ``solutions/`` never has to ship. ``llmkit snapshots``
regenerates them; a test fails when they are stale.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from llmkit import registry
from llmkit.checks import PUBLIC_SEEDS, public_checks, reference_values
from llmkit.values import Mismatch, decode, encode, exact, same

SNAPSHOT_DIR = Path(__file__).resolve().parent.parent / "checks" / "snapshots"


def path_for(topic: registry.Topic) -> Path:
    return SNAPSHOT_DIR / f"{topic.package}.json"


def generate(topic: registry.Topic) -> dict[str, dict[str, Any]]:
    """Run the public probes on the reference: ``{check: {seed: value}}``."""
    checks = public_checks(topic)
    per_seed = {seed: reference_values(topic, checks, seed) for seed in PUBLIC_SEEDS}
    return {c.name: {str(seed): per_seed[seed][c.name] for seed in PUBLIC_SEEDS} for c in checks}


def write(topic: registry.Topic) -> Path:
    path = path_for(topic)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"topic": topic.package, "seeds": list(PUBLIC_SEEDS), "checks": encode(generate(topic))}
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def load(topic: registry.Topic) -> dict[str, dict[str, Any]]:
    path = path_for(topic)
    if not path.exists():
        return {}
    return decode(json.loads(path.read_text(encoding="utf-8"))["checks"], trusted=True)


def stale(topic: registry.Topic) -> list[str]:
    """Why the stored snapshot differs from a fresh one (empty when in sync)."""
    stored, fresh = load(topic), generate(topic)
    problems = []
    for name in sorted(set(stored) | set(fresh)):
        if name not in stored or name not in fresh:
            problems.append(f"{name}: {'missing from' if name not in stored else 'extra in'} snapshot")
            continue
        try:
            same(exact(stored[name]), exact(fresh[name]), path=name)
        except Mismatch as exc:
            problems.append(str(exc))
    return problems
