"""The reference GPTModel computes what Hugging Face's GPT-2 computes, under a documented mapping.

Offline: ``transformers`` builds a random small ``GPT2LMHeadModel`` from a config made in
code (no hub access). Its weights are copied into topic 18's reference ``GPTModel`` by the
mapping below - the same one topic 18's README documents and topic 26's learners write -
and the logits must agree in float64.

GPT-2 stores its linear layers as ``Conv1D`` with weights ``(in_features, out_features)``,
the transpose of ``nn.Linear``'s ``(out, in)``; and one fused ``c_attn`` of width
``3 * d_model`` whose output columns are the query, key and value projections in that order.
"""

from __future__ import annotations

import os

import pytest
import torch

from llmkit import resolver

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing in this test may reach the network
transformers = pytest.importorskip("transformers")


def hf_to_llmkit(hf_state: dict[str, torch.Tensor], num_layers: int) -> dict[str, torch.Tensor]:
    """Hugging Face GPT-2 state dict -> ``GPTModel`` parameter names (topic 18's contract)."""
    sd = {k.removeprefix("transformer."): v for k, v in hf_state.items()}
    out = {"embedding.tok_emb.weight": sd["wte.weight"],
           "embedding.pos_emb.table.weight": sd["wpe.weight"],
           "final_norm.weight": sd["ln_f.weight"], "final_norm.bias": sd["ln_f.bias"]}
    for i in range(num_layers):
        h, b = f"h.{i}.", f"blocks.{i}."
        q, k, v = sd[h + "attn.c_attn.weight"].chunk(3, dim=1)        # Conv1D: (d, 3d), columns q|k|v
        qb, kb, vb = sd[h + "attn.c_attn.bias"].chunk(3)
        out.update({
            b + "norm1.weight": sd[h + "ln_1.weight"], b + "norm1.bias": sd[h + "ln_1.bias"],
            b + "attn.W_query.weight": q.T, b + "attn.W_key.weight": k.T, b + "attn.W_value.weight": v.T,
            b + "attn.W_query.bias": qb, b + "attn.W_key.bias": kb, b + "attn.W_value.bias": vb,
            b + "attn.out_proj.weight": sd[h + "attn.c_proj.weight"].T, b + "attn.out_proj.bias": sd[h + "attn.c_proj.bias"],
            b + "norm2.weight": sd[h + "ln_2.weight"], b + "norm2.bias": sd[h + "ln_2.bias"],
            b + "ff.fc.weight": sd[h + "mlp.c_fc.weight"].T, b + "ff.fc.bias": sd[h + "mlp.c_fc.bias"],
            b + "ff.proj.weight": sd[h + "mlp.c_proj.weight"].T, b + "ff.proj.bias": sd[h + "mlp.c_proj.bias"],
        })
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reference_gpt_model_equals_transformers_gpt2(seed):
    gen = torch.Generator().manual_seed(seed)
    d_head = int(torch.randint(2, 6, (1,), generator=gen))
    heads = int(torch.randint(1, 4, (1,), generator=gen))
    layers = int(torch.randint(1, 4, (1,), generator=gen))
    vocab, context = int(torch.randint(20, 80, (1,), generator=gen)), int(torch.randint(8, 24, (1,), generator=gen))
    hf_config = transformers.GPT2Config(vocab_size=vocab, n_positions=context, n_embd=heads * d_head,
                                        n_layer=layers, n_head=heads, resid_pdrop=0.0, embd_pdrop=0.0,
                                        attn_pdrop=0.0, activation_function="gelu_new", layer_norm_epsilon=1e-5,
                                        tie_word_embeddings=True)
    torch.manual_seed(seed)
    hf = transformers.GPT2LMHeadModel(hf_config).double().eval()
    with torch.no_grad():  # random biases and norms too, so a mixed-up mapping cannot hide behind zeros
        for p in hf.parameters():
            p.normal_(0.0, 0.3, generator=gen)

    with resolver.session("solutions"):
        from course.t13_gpt_config import GPTConfig
        from course.t18_gpt_model import GPTModel

        model = GPTModel(GPTConfig(vocab_size=vocab, context_length=context, d_model=heads * d_head,
                                   num_heads=heads, num_layers=layers, dropout=0.0, qkv_bias=True,
                                   tie_weights=True)).double().eval()
        mapped = hf_to_llmkit(hf.state_dict(), layers)
        own = dict(model.named_parameters())
        assert set(mapped) == set(own), set(mapped) ^ set(own)
        with torch.no_grad():
            for name, value in mapped.items():
                own[name].copy_(value)
        ids = torch.randint(0, vocab, (2, context), generator=gen)
        with torch.no_grad():
            ours = model(ids)
            theirs = hf(ids).logits
    assert torch.allclose(ours, theirs, rtol=1e-10, atol=1e-10), (ours - theirs).abs().max()
