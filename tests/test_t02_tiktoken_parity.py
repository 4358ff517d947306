"""Topic 02's reference against tiktoken's real ``gpt2`` encoding (not against itself).

The hidden checks compare a learner with the reference; this file makes sure the
reference is right: token-for-token equal to tiktoken on random text and on
Shakespeare, byte-exact decoding, and the same pre-tokenization chunks.
"""

import pytest
import regex

from autograder.hidden.t02_bpe import EDGE_TEXTS
from checks.t02_bpe import random_text
from llmkit import registry, resolver
from llmkit.data import shakespeare, tiktoken_gpt2
from llmkit.probing import Rng


@pytest.fixture(scope="module")
def reference():
    topic = next(t for t in registry.TOPICS if t.number == 2)
    with resolver.session("solutions"):
        yield resolver.load(topic)


@pytest.fixture(scope="module")
def texts():
    rng = Rng(20240602)
    return [random_text(rng, rng.integer(1, 80)) for _ in range(300)] + EDGE_TEXTS


def test_t02_bpe_encode_matches_tiktoken_on_random_text(reference, texts):
    tok, enc = reference.load_gpt2_tokenizer(), tiktoken_gpt2()
    for text in texts:
        assert tok.encode(text) == enc.encode(text, allowed_special="all"), repr(text)
        assert tok.encode(text, allowed_special=frozenset()) == enc.encode_ordinary(text), repr(text)


def test_t02_bpe_pretokenize_matches_tiktoken_pattern(reference, texts):
    from tiktoken_ext.openai_public import r50k_pat_str

    pattern = regex.compile(r50k_pat_str)
    for text in texts:
        assert reference.pretokenize_gpt2(text) == pattern.findall(text), repr(text)


def test_t02_bpe_encode_matches_tiktoken_on_shakespeare(reference):
    tok, enc = reference.load_gpt2_tokenizer(), tiktoken_gpt2()
    text = shakespeare("hamlet")[:60000] + "<|endoftext|>" + shakespeare("macbeth")[:20000]
    ids = tok.encode(text)
    assert ids == enc.encode(text, allowed_special="all")
    assert tok.decode(ids) == text


def test_t02_bpe_decode_matches_tiktoken_on_random_ids(reference):
    tok, enc = reference.load_gpt2_tokenizer(), tiktoken_gpt2()
    rng = Rng(7)
    for _ in range(500):
        top = 255 if rng.coin() else 50256  # single bytes: mostly invalid UTF-8
        ids = [rng.integer(0, top) for _ in range(rng.integer(0, 10))]
        assert tok.decode_bytes(ids) == enc.decode_bytes(ids), ids
        assert tok.decode(ids) == enc.decode(ids), ids


def test_t02_bpe_vocabulary_matches_tiktoken(reference):
    tok, enc = reference.load_gpt2_tokenizer(), tiktoken_gpt2()
    assert tok.vocab_size == enc.n_vocab == 50257
    assert all(tok.decode_bytes([i]) == enc.decode_single_token_bytes(i) for i in range(50257))
