"""Hidden checks for topic 02 - Byte Pair Encoding (fresh seed every run)."""

from checks.t02_bpe import (
    plain_counts,
    plain_merges,
    plain_vocab,
    random_char,
    random_corpus,
    random_text,
    trained,
)
from llmkit.checks import check
from llmkit.data import shakespeare
from llmkit.probing import error_case, raises

EDGE_TEXTS = ["", " ", "   ", "a   b", "a \n b", "x   ", "\n\n\nx", " \t x", "'s's", "don't",
              "I'M", "they're  'll", "  '''s", "123abc", "a1b2 3.5", "🙂🙂 🙂", "\u00a0a",
              "a\u00a0\u00a0b", "end.\n", "  \n\n", "\t", "x\r\n\r\ny", "<|endoftext|>",
              "a<|endoftext|>b <|endoftext|> ", "<|endoftext|><|endoftext|>", "<|endof", "e\u0301t\u00e9"]


def random_bytes(rng, n: int) -> bytes:
    """Bytes that are often not valid UTF-8: random bytes and cut multi-byte characters."""
    if rng.coin():
        return bytes(rng.integer(0, 255) for _ in range(n))
    text = "".join(random_char(rng) for _ in range(n))
    data = text.encode("utf-8")
    return data[rng.integer(0, len(data) // 2): rng.integer(len(data) // 2 + 1, len(data))]


@check("bytes_to_unicode: the exact GPT-2 table (nice bytes as themselves, the rest from chr(256))")
def byte_table_exact(t, rng):
    table = t.bytes_to_unicode()
    probe = [rng.integer(0, 255) for _ in range(20)]
    return {"keys": sorted(table), "chars": [table.get(b) for b in range(256)],
            "probe": [table.get(b) for b in probe], "distinct": len(set(table.values()))}


@check("pretokenize_gpt2 on random unicode/emoji/whitespace text and edge cases")
def pretokenize_random(t, rng):
    texts = [random_text(rng, rng.integer(1, 60)) for _ in range(15)] + EDGE_TEXTS
    return [t.pretokenize_gpt2(text) for text in texts]


@check("get_pair_counts on random words: every adjacent pair, weighted, overlaps counted")
def pair_counts_random(t, rng):
    out = []
    for _ in range(4):
        words = {}
        for _ in range(rng.integer(0, 15)):
            word = tuple(rng.choice([b"a", b"b", b"ab", b"\xe2", b" "]) for _ in range(rng.integer(0, 7)))
            words[word] = rng.integer(1, 9)
        out.append(plain_counts(t.get_pair_counts(words)))
    return out


@check("merge_pair on random words: all non-overlapping occurrences, left to right")
def merge_pair_random(t, rng):
    out = []
    for _ in range(30):
        word = tuple(rng.choice([b"a", b"b", b"ab", b"ba"]) for _ in range(rng.integer(0, 9)))
        pair = (rng.choice([b"a", b"b", b"ab"]), rng.choice([b"a", b"b", b"ab"]))
        out.append(list(t.merge_pair(word, pair)))
    return out


@check("train_bpe on random small corpora: same merges and ids as the reference (incl. ties)")
def train_random(t, rng):
    out = []
    for alphabet in ("abc", "abcdef", "xyz12 ", "aé中"):
        text = random_corpus(rng, rng.integer(20, 80), alphabet)
        vocab, merges = t.train_bpe(text, 256 + 1 + rng.integer(10, 40))
        out.append({"merges": plain_merges(merges), "vocab": plain_vocab(vocab)})
    return out


@check("train_bpe: special token lists, early stop when no pair is left, too-small vocab_size")
def train_specials_and_limits(t, rng):
    text = random_corpus(rng, 40, "abcd") + "<|pad|>" + random_corpus(rng, 10, "ab")
    no_specials = t.train_bpe(text, 256 + rng.integer(5, 15), ())
    two = t.train_bpe(text, 258 + rng.integer(5, 15), ("<|endoftext|>", "<|pad|>"))
    short = t.train_bpe("ab ab a<|endoftext|>b", 300 + rng.integer(0, 5))  # runs out of pairs
    return {
        "no_specials": [plain_merges(no_specials[1]), plain_vocab(no_specials[0])],
        "two": [plain_merges(two[1]), plain_vocab(two[0])],
        "short": [plain_merges(short[1]), plain_vocab(short[0])],
        "bytes_only": plain_vocab(t.train_bpe(text, 256, ())[0]),
        "too_small": [raises(t.train_bpe, text, 256), raises(t.train_bpe, text, 257, ("a", "b"))],
    }


@check("trained tokenizer: encode_chunk by merge rank, encode with/without specials, decode")
def trained_tokenizer(t, rng):
    corpus = random_corpus(rng, 80, "abcde")
    _, _, tok = trained(t, corpus, 256 + 1 + rng.integer(15, 40))
    other = random_corpus(rng, 30, "abcdef") + random_text(rng, 10)
    chunks = [bytes(rng.choice(b"abcde") for _ in range(rng.integer(0, 12))) for _ in range(10)]
    ids = tok.encode(other)
    return {
        "chunks": [tok.encode_chunk(c) for c in chunks],
        "all": ids,
        "none": tok.encode(other, allowed_special=frozenset()),
        "set": tok.encode(other, allowed_special={"<|endoftext|>"}),
        "again": tok.encode(other),  # the cache must not change anything
        "decode": tok.decode(ids),
        "bad_name": raises(tok.encode, "x", allowed_special={"<|nope|>"}),
    }


@check("GPT-2 encode equals tiktoken's gpt2 on random unicode/emoji/whitespace text")
def gpt2_parity_random(t, rng):
    tok = t.load_gpt2_tokenizer()
    texts = [random_text(rng, rng.integer(1, 80)) for _ in range(25)] + EDGE_TEXTS
    return [tok.encode(text) for text in texts]


@check("GPT-2 encode of a Shakespeare excerpt, with and without allowed special tokens")
def gpt2_parity_shakespeare(t, rng):
    tok = t.load_gpt2_tokenizer()
    play = shakespeare(rng.choice(["hamlet", "macbeth", "the-tempest"]))
    start = rng.integer(0, len(play) - 20000)
    excerpt = play[start:start + 20000]
    cut = rng.integer(0, len(excerpt))
    with_eot = excerpt[:cut] + "<|endoftext|>" + excerpt[cut:]
    return {"excerpt": tok.encode(excerpt), "eot": tok.encode(with_eot),
            "eot_as_text": tok.encode(with_eot, allowed_special=frozenset())[-3000:]}


@check("GPT-2 encode_chunk on arbitrary bytes (also invalid UTF-8)")
def gpt2_chunks_bytes(t, rng):
    tok = t.load_gpt2_tokenizer()
    return [tok.encode_chunk(random_bytes(rng, rng.integer(1, 8))) for _ in range(40)]


@check("GPT-2 decode_bytes/decode of random ids: exact bytes, invalid UTF-8 -> U+FFFD")
def gpt2_decode_random(t, rng):
    tok = t.load_gpt2_tokenizer()
    out = []
    for _ in range(30):
        n = rng.integer(0, 12)
        if rng.coin():
            ids = [rng.integer(0, 50256) for _ in range(n)]
        else:  # single-byte tokens and short pieces: mostly broken UTF-8
            ids = [rng.integer(0, 255) if rng.coin(0.7) else rng.integer(0, 50256) for _ in range(n)]
        out.append({"bytes": tok.decode_bytes(ids), "text": tok.decode(ids)})
    return out


@check("from_gpt2_files: 50257 ids exactly as encoder.json, merges in vocab.bpe order")
def gpt2_files(t, rng):
    tok = t.load_gpt2_tokenizer()
    ids = [rng.integer(0, 50256) for _ in range(300)] + [0, 255, 256, 50255, 50256]
    ranks = [rng.integer(0, 49999) for _ in range(50)] + [0, 49999]
    return {"tokens": tok.decode_bytes(ids), "each": [tok.decode_bytes([i]) for i in ids],
            "merges": [list(tok.merges[r]) for r in ranks], "n_merges": len(tok.merges),
            "special": tok.special_tokens, "size": tok.vocab_size}


@check("decode of an unknown id (too large or negative) raises KeyError naming the id")
def decode_unknown_id(t, rng):
    tok = t.load_gpt2_tokenizer()
    cases = []
    for bad in (50257 + rng.integer(0, 10**6), -rng.integer(1, 5)):
        good = rng.integer(0, 50256)
        cases.append(error_case(f"decode([{good}, {bad}])", tok.decode, [good, bad], names=[bad]))
        cases.append(error_case(f"decode_bytes([{bad}])", tok.decode_bytes, [bad], names=[bad]))
    return cases


@check("round trip decode(encode(text)) == text on random text")
def round_trip(t, rng):
    tok = t.load_gpt2_tokenizer()
    return [tok.decode(tok.encode(text)) for text in
            [random_text(rng, rng.integer(1, 50)) for _ in range(10)] + EDGE_TEXTS]
