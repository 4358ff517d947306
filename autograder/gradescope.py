"""A Gradescope autograder bundle: ``llmkit gradescope-bundle autograder.zip``.

Gradescope runs each submission in its own container: ``setup.sh`` once per
image (installs the kit from the bundle), then ``run_autograder`` per
submission, which grades ``/autograder/submission`` with ``llmkit grade`` and
copies the submission's ``results.json`` to ``/autograder/results/``.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("llmkit", "course", "solutions", "checks", "autograder")
FILES = ("pyproject.toml", "README.md", "conftest.py")

SETUP_SH = """#!/usr/bin/env bash
# Gradescope image set-up: install the kit (CPU torch first, then the kit itself).
set -euo pipefail
apt-get update -qq && apt-get install -y -qq python3-venv util-linux >/dev/null
python3 -m venv /opt/llmkit
/opt/llmkit/bin/pip install --quiet "torch==2.13.0" || /opt/llmkit/bin/pip install --quiet "torch>=2.2"
/opt/llmkit/bin/pip install --quiet -e /autograder/source
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Grade one Gradescope submission with the hidden checks; write /autograder/results/results.json.
set -uo pipefail
out=$(mktemp -d)
/opt/llmkit/bin/llmkit grade /autograder/submission --out "$out" --jobs 2
mkdir -p /autograder/results
cp "$out/gradescope/submission/results.json" /autograder/results/results.json
"""


def build_bundle(target: Path) -> list[str]:
    """Write the bundle zip; return the names it holds."""
    names = []
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in (("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER)):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o100755 << 16
            zf.writestr(info, text)
            names.append(name)
        for package in PACKAGES:
            for path in sorted((KIT_ROOT / package).rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    arcname = f"source/{path.relative_to(KIT_ROOT)}"
                    zf.write(path, arcname)
                    names.append(arcname)
        for name in FILES:
            zf.write(KIT_ROOT / name, f"source/{name}")
            names.append(f"source/{name}")
    return names
