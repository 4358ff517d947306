"""OpenAI's GPT-2 checkpoints on this machine: find them, or download them on request.

Topic 26's ``load_gpt2(folder)`` reads a folder holding ``config.json`` and
``model.safetensors``, as Hugging Face publishes them. This module finds such a
folder for one of the four sizes, and fetches one only when asked to
(``llmkit gpt2 download``): nothing here touches the network at import time,
and nothing else in the kit downloads anything.

* :func:`find_local` looks in ``$LLMKIT_GPT2_DIR`` and in Hugging Face's cache;
* :func:`download` fills that cache through ``huggingface_hub`` (only the two
  files the loader reads, never a pickled ``pytorch_model.bin``);
* :class:`DownloadError` carries one sentence a person can act on (offline,
  no network, ``huggingface_hub`` not installed, unknown size).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

# the published sizes and their Hugging Face repositories
SIZES = {"124M": "gpt2", "355M": "gpt2-medium", "774M": "gpt2-large", "1558M": "gpt2-xl"}
# n_embd, n_layer of each size: tells the sizes apart in a folder of unknown origin
SIZE_DIMS = {"124M": (768, 12), "355M": (1024, 24), "774M": (1280, 36), "1558M": (1600, 48)}
# the hub moved OpenAI's repositories under this organization; the short ids still resolve
ORGANIZATION = "openai-community"
FILES = ("config.json", "model.safetensors")
ENV_DIR = "LLMKIT_GPT2_DIR"


class DownloadError(RuntimeError):
    """GPT-2's files cannot be found or fetched; the message says why and what to do."""


def _repo(size: str) -> str:
    if size not in SIZES:
        raise DownloadError(f"unknown GPT-2 size {size!r}: choose one of {', '.join(SIZES)}")
    return SIZES[size]


def _complete(folder: Path) -> bool:
    return all((folder / name).is_file() for name in FILES)


def _matches(folder: Path, size: str) -> bool:
    """Does the checkpoint in ``folder`` have the width and depth of ``size``?"""
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (config.get("n_embd"), config.get("n_layer")) == SIZE_DIMS[size]


def _offline() -> bool:
    """``HF_HUB_OFFLINE`` as set now (huggingface_hub reads it once, when first imported)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def _default_cache() -> Path:
    """Hugging Face's hub cache, by the environment variables huggingface_hub reads."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "huggingface"
    return Path(home).expanduser() / "hub"


def _cached_snapshot(repo: str, cache_dir: str | Path | None) -> Path | None:
    """The cached snapshot folder of ``repo`` holding both files, or ``None``."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return _snapshot_by_hand(repo, cache_dir)
    found = [try_to_load_from_cache(repo, name, cache_dir=cache_dir) for name in FILES]
    paths = [Path(f) for f in found if isinstance(f, str)]
    if len(paths) == len(FILES) and len({p.parent for p in paths}) == 1:
        return paths[0].parent
    return None


def _snapshot_by_hand(repo: str, cache_dir: str | Path | None) -> Path | None:
    """:func:`_cached_snapshot` without huggingface_hub: models--{org}--{name}/refs/main -> snapshots/{commit}."""
    repo_cache = Path(cache_dir or _default_cache()) / ("models--" + repo.replace("/", "--"))
    try:
        commit = (repo_cache / "refs" / "main").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    folder = repo_cache / "snapshots" / commit
    return folder if _complete(folder) else None


def find_local(size: str = "124M", cache_dir: str | Path | None = None) -> Path | None:
    """A folder on this machine holding ``config.json`` and ``model.safetensors`` of GPT-2 ``size``, or ``None``.

    Looks, in this order, in ``$LLMKIT_GPT2_DIR/<size>`` (``.../124M``),
    ``$LLMKIT_GPT2_DIR/<repo>`` (``.../gpt2``), ``$LLMKIT_GPT2_DIR`` itself when its
    checkpoint has the width and depth of ``size``, and Hugging Face's cache
    (``cache_dir``, default: the hub's own, ``~/.cache/huggingface/hub``) under the
    repository's short and full ids (``gpt2``, ``openai-community/gpt2``). Never
    touches the network.
    """
    repo = _repo(size)
    if os.environ.get(ENV_DIR):
        base = Path(os.environ[ENV_DIR]).expanduser()
        for folder in (base / size, base / repo):
            if _complete(folder):
                return folder
        if _complete(base) and _matches(base, size):
            return base
    for repo_id in (repo, f"{ORGANIZATION}/{repo}"):
        snapshot = _cached_snapshot(repo_id, cache_dir)
        if snapshot is not None:
            return snapshot
    return None


def how_to_get(size: str = "124M") -> str:
    """One sentence: how to get GPT-2 ``size``'s files onto this machine."""
    flag = "" if size == "124M" else f" --size {size}"
    return (f"run `llmkit gpt2 download{flag}` (it needs the huggingface_hub package and a network), or set "
            f"{ENV_DIR} to a folder holding GPT-2 {size}'s {' and '.join(FILES)}")


def download(size: str = "124M", cache_dir: str | Path | None = None) -> Path:
    """Fetch ``config.json`` and ``model.safetensors`` of GPT-2 ``size`` into Hugging Face's cache; the folder.

    Files already in the cache are not fetched again. Offline (``HF_HUB_OFFLINE=1``)
    only the cache is used. Any failure - ``huggingface_hub`` not installed, offline
    and not cached, no network, an unknown size - raises :class:`DownloadError`
    with one sentence saying what happened and what to do.
    """
    repo = _repo(size)
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        raise DownloadError("downloading GPT-2 needs the huggingface_hub package: "
                             "`pip install huggingface_hub`, then try again") from None
    offline = _offline()
    paths = []
    for name in FILES:
        try:
            paths.append(Path(hf_hub_download(repo, name, cache_dir=cache_dir, local_files_only=offline)))
        except Exception as exc:  # network, offline mode, missing file, a full disk: one sentence each way
            if offline:
                raise DownloadError(
                    f"GPT-2 {size} ({repo}) is not in the Hugging Face cache and HF_HUB_OFFLINE is set, so it "
                    f"cannot be downloaded: unset HF_HUB_OFFLINE on a machine with a network, or set {ENV_DIR} "
                    f"to a folder holding {' and '.join(FILES)}") from None
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DownloadError(f"could not download {name} of GPT-2 {size} from the Hugging Face hub ({repo}): "
                                 f"{reason} - check the network connection and try again") from None
    folders = {path.parent for path in paths}
    if len(folders) != 1:  # the repository changed between the two requests
        raise DownloadError(f"the two files of GPT-2 {size} came from different revisions of {repo}: "
                             "run the download again")
    return folders.pop()
