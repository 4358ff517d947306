"""Topic 26's loader against Hugging Face's own GPT-2, and the kit's GPT-2 file helpers, offline.

* ``transformers`` builds random small ``GPT2LMHeadModel``s from configs made in code and saves
  them with ``save_pretrained`` (safetensors); the reference ``load_gpt2`` must reproduce their
  logits in float64 - also with the ``transformer.`` prefix removed from the file's keys, and
  untied. A file with a key or shape that does not fit fails with an error naming the key.
* ``llmkit generate --weights DIR`` (reference topics 26, 24, 19) writes, token for token, what
  ``transformers``' ``generate(do_sample=False)`` writes: offline for a random model with GPT-2's
  vocabulary, and for the real GPT-2 small when it is on this machine
  (``llmkit.gpt2_files.find_local``; skipped, saying why, otherwise).
* ``llmkit.gpt2_files`` finds folders without the network and fails with one clear sentence.
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager

import pytest
import torch

from llmkit import gpt2_files, resolver
from llmkit.gpt2_files import DownloadError

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing in this test may reach the network
transformers = pytest.importorskip("transformers")
safetensors_torch = pytest.importorskip("safetensors.torch")


@contextmanager
def default_dtype(dtype: torch.dtype):
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


def random_hf_model(seed: int, tied: bool = True):
    """A random small GPT2LMHeadModel in float64, every parameter (biases and norms too) drawn at random."""
    gen = torch.Generator().manual_seed(seed)
    heads = int(torch.randint(1, 4, (1,), generator=gen))
    d_model = heads * int(torch.randint(2, 6, (1,), generator=gen))
    vocab, context = int(torch.randint(20, 80, (1,), generator=gen)), int(torch.randint(8, 24, (1,), generator=gen))
    config = transformers.GPT2Config(
        vocab_size=vocab, n_positions=context,
        n_embd=d_model, n_layer=int(torch.randint(1, 4, (1,), generator=gen)), n_head=heads, resid_pdrop=0.0,
        embd_pdrop=0.0, attn_pdrop=0.0, activation_function="gelu_new", layer_norm_epsilon=1e-5,
        tie_word_embeddings=tied, bos_token_id=0, eos_token_id=0)
    torch.manual_seed(seed)
    model = transformers.GPT2LMHeadModel(config).double().eval()
    with torch.no_grad():  # random values everywhere, so a mixed-up mapping cannot hide behind zeros or ones
        for p in model.parameters():
            p.normal_(0.0, 0.3, generator=gen)
    return model, gen


def load_reference(folder, dropout: float = 0.0):
    with resolver.session("solutions"):
        from course.t26_gpt2_weights import load_gpt2

        return load_gpt2(folder, dropout=dropout)


def rewrite_keys(folder, change) -> None:
    """Rewrite the folder's model.safetensors with ``change(state)`` applied."""
    path = folder / "model.safetensors"
    state = safetensors_torch.load_file(path)
    safetensors_torch.save_file({k: v.contiguous() for k, v in change(state).items()}, path)


@pytest.mark.parametrize("seed,tied", [(0, True), (1, True), (2, False)])
def test_load_gpt2_reproduces_transformers_logits(seed, tied, tmp_path):
    hf, gen = random_hf_model(seed, tied)
    hf.save_pretrained(tmp_path, safe_serialization=True)
    keys = set(safetensors_torch.load_file(tmp_path / "model.safetensors"))
    assert any(k.startswith("transformer.") for k in keys)  # what save_pretrained writes today
    assert ("lm_head.weight" in keys) == (not tied)
    ids = torch.randint(0, hf.config.vocab_size, (2, hf.config.n_positions), generator=gen)
    with torch.no_grad():
        theirs = hf(ids).logits

    for variant in ("as saved", "prefix removed"):
        if variant == "prefix removed":  # the layout of the hub's own gpt2 file
            rewrite_keys(tmp_path, lambda s: {k.removeprefix("transformer."): v for k, v in s.items()})
        with default_dtype(torch.float64):
            model = load_reference(tmp_path)
        assert not model.training
        assert next(model.parameters()).dtype == torch.float64
        with torch.no_grad():
            ours = model(ids)
        assert torch.allclose(ours, theirs, rtol=1e-10, atol=1e-10), (variant, (ours - theirs).abs().max())


def test_load_gpt2_float32_file_and_mask_buffers(tmp_path):
    """A float32 file (as published) holding the old mask buffers loads into a float32 model."""
    hf, gen = random_hf_model(3)
    hf.float().save_pretrained(tmp_path, safe_serialization=True)
    n, layers = hf.config.n_positions, hf.config.n_layer

    def add_buffers(state):
        for i in range(layers):
            state[f"h.{i}.attn.bias"] = torch.tril(torch.ones(n, n)).view(1, 1, n, n)
            state[f"h.{i}.attn.masked_bias"] = torch.tensor(-1e4)
        return {k.removeprefix("transformer."): v for k, v in state.items()}

    rewrite_keys(tmp_path, add_buffers)
    model = load_reference(tmp_path, dropout=0.1)
    assert model.config.dropout == 0.1 and not model.training
    ids = torch.randint(0, hf.config.vocab_size, (1, n), generator=gen)
    with torch.no_grad():
        assert torch.allclose(model(ids), hf(ids).logits, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("change,key", [
    (lambda s: {k: v for k, v in s.items() if k != "transformer.h.0.mlp.c_proj.bias"}, "h.0.mlp.c_proj.bias"),
    (lambda s: {**s, "transformer.h.0.mlp.c_fc.weight": s["transformer.h.0.mlp.c_fc.weight"].T},
     "h.0.mlp.c_fc.weight"),
    (lambda s: {**s, "transformer.h.0.attn.rotary.inv_freq": torch.ones(3)}, "h.0.attn.rotary.inv_freq"),
], ids=["missing key", "transposed c_fc", "unknown key"])
def test_a_file_that_does_not_fit_names_the_key(change, key, tmp_path):
    hf, _ = random_hf_model(4)
    hf.save_pretrained(tmp_path, safe_serialization=True)
    rewrite_keys(tmp_path, change)
    with pytest.raises(ValueError, match=key.replace(".", r"\.")):
        load_reference(tmp_path)


def greedy_like_transformers(folder, prompt: str, tokens: int) -> tuple[str, str]:
    """``llmkit generate --weights folder`` on the reference topics, and transformers' greedy text."""
    from typer.testing import CliRunner

    from llmkit.cli import app
    from llmkit.data import tiktoken_gpt2

    result = CliRunner().invoke(app, ["generate", "--impl", "solutions", "--weights", str(folder),
                                      "--max-new-tokens", str(tokens), prompt], env={"COLUMNS": "1000"})
    assert result.exit_code == 0, result.output
    encoding = tiktoken_gpt2()
    ids = torch.tensor([encoding.encode(prompt)])
    hf = transformers.GPT2LMHeadModel.from_pretrained(folder).eval()
    with torch.no_grad():
        theirs = hf.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False, max_new_tokens=tokens,
                             pad_token_id=hf.config.eos_token_id)
    return result.output.rstrip("\n"), encoding.decode(theirs[0].tolist())


def test_generate_command_speaks_like_transformers_offline(tmp_path):
    """A random GPT-2 with the real vocabulary, saved by transformers: the CLI's greedy text is theirs."""
    config = transformers.GPT2Config(vocab_size=50257, n_positions=32, n_embd=16, n_layer=2, n_head=2,
                                     activation_function="gelu_new", tie_word_embeddings=True)
    torch.manual_seed(0)
    transformers.GPT2LMHeadModel(config).save_pretrained(tmp_path, safe_serialization=True)
    ours, theirs = greedy_like_transformers(tmp_path, "Every effort moves you", 8)
    assert ours == theirs


def test_real_gpt2_small_generates_like_transformers():
    folder = gpt2_files.find_local("124M")
    if folder is None:
        pytest.skip("GPT-2 small (124M) is not on this machine, so the comparison with the real weights cannot "
                    f"run: {gpt2_files.how_to_get('124M')}")
    ours, theirs = greedy_like_transformers(folder, "Every effort moves you", 20)
    assert ours == theirs


# ----------------------------------------------------------------------------- llmkit.gpt2_files


def test_download_offline_gives_one_clear_sentence(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DownloadError) as caught:
        gpt2_files.download("124M", cache_dir=tmp_path)
    message = str(caught.value)
    assert "HF_HUB_OFFLINE" in message and "gpt2" in message and "\n" not in message
    assert not any(tmp_path.rglob("*.safetensors"))


def test_download_without_huggingface_hub_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)  # `import huggingface_hub` now fails
    with pytest.raises(DownloadError, match="pip install huggingface_hub"):
        gpt2_files.download("124M", cache_dir=tmp_path)


def test_unknown_size_is_refused():
    with pytest.raises(DownloadError, match="124M, 355M, 774M, 1558M"):
        gpt2_files.download("7B")
    with pytest.raises(DownloadError, match="'small'"):
        gpt2_files.find_local("small")


def fake_checkpoint(folder, n_embd=768, n_layer=12):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps({"n_embd": n_embd, "n_layer": n_layer}))
    (folder / "model.safetensors").write_bytes(b"")
    return folder


def test_find_local_reads_llmkit_gpt2_dir(tmp_path, monkeypatch):
    empty_cache = tmp_path / "cache"
    monkeypatch.setenv(gpt2_files.ENV_DIR, str(tmp_path / "weights"))
    assert gpt2_files.find_local("124M", cache_dir=empty_cache) is None
    medium = fake_checkpoint(tmp_path / "weights" / "355M", 1024, 24)
    assert gpt2_files.find_local("355M", cache_dir=empty_cache) == medium
    small = fake_checkpoint(tmp_path / "weights")  # the variable points at one checkpoint: its config decides
    assert gpt2_files.find_local("124M", cache_dir=empty_cache) == small
    assert gpt2_files.find_local("774M", cache_dir=empty_cache) is None


@pytest.mark.parametrize("hub", ["with huggingface_hub", "without huggingface_hub"])
@pytest.mark.parametrize("repo_id", ["gpt2", "openai-community/gpt2"])
def test_find_local_reads_the_hugging_face_cache(tmp_path, monkeypatch, repo_id, hub):
    monkeypatch.delenv(gpt2_files.ENV_DIR, raising=False)
    if hub == "without huggingface_hub":  # the cache's layout is read by hand
        monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    repo_cache = tmp_path / ("models--" + repo_id.replace("/", "--"))
    (repo_cache / "refs").mkdir(parents=True)
    (repo_cache / "refs" / "main").write_text("0123abcd")
    snapshot = repo_cache / "snapshots" / "0123abcd"
    fake_checkpoint(snapshot)
    assert gpt2_files.find_local("124M", cache_dir=tmp_path) == snapshot
    (snapshot / "model.safetensors").unlink()  # half a download is not a checkpoint
    assert gpt2_files.find_local("124M", cache_dir=tmp_path) is None
