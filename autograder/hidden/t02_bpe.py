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

NOT_BEHAVIOUR = {
    "In `bpe.py`:": "where the code goes",
    "Given: `BPETokenizer.__init__(vocab, merges, special_tokens)` builds":
        "describes code the kit provides (the constructor), not code the learner writes",
    "the property `vocab_size`;": "given code (a one-line property the kit provides)",
    "and `load_gpt2_tokenizer()`, which builds GPT-2's tokenizer": "given code (the kit's cached loader)",
    "Later topics use it as": "a pointer to how later topics import it",
}

EOT = "<|endoftext|>"
EDGE_TEXTS = ["", " ", "   ", "a   b", "a \n b", "x   ", "\n\n\nx", " \t x", "'s's", "don't",
              "I'M", "they're  'll", "  '''s", "we've I'm he'd you'll it's don't they're 'S 'VE", "123abc",
              "a1b2 3.5", "🙂🙂 🙂", "\u00a0a",
              "a\u00a0\u00a0b", "end.\n", "  \n\n", "\t", "x\r\n\r\ny", "<|endoftext|>",
              "a<|endoftext|>b <|endoftext|> ", "<|endoftext|><|endoftext|>", "<|endof", "e\u0301t\u00e9"]


def random_bytes(rng, n: int) -> bytes:
    """Bytes that are often not valid UTF-8: random bytes and cut multi-byte characters."""
    if rng.coin():
        return bytes(rng.integer(0, 255) for _ in range(n))
    text = "".join(random_char(rng) for _ in range(n))
    data = text.encode("utf-8")
    return data[rng.integer(0, len(data) // 2): rng.integer(len(data) // 2 + 1, len(data))]


@check("bytes_to_unicode: the exact GPT-2 table (nice bytes as themselves, the rest from chr(256))",
       promises=["GPT-2's table: bytes 33-126, 161-172, 174-255 map to `chr(b)`",
                 "the other 68 bytes, in increasing order, to `chr(256)`, `chr(257)`, ..."])
def byte_table_exact(t, rng):
    table = t.bytes_to_unicode()
    probe = [rng.integer(0, 255) for _ in range(20)]
    return {"keys": sorted(table), "chars": [table.get(b) for b in range(256)],
            "probe": [table.get(b) for b in probe], "distinct": len(set(table.values()))}


@check("pretokenize_gpt2 on random unicode/emoji/whitespace text and edge cases (every contraction, "
       "runs of spaces, numbers, specials' text)",
       promises=["GPT-2's regex (use the `regex` package): contractions",
                 "chunks concatenate back to `text` and equal tiktoken's"])
def pretokenize_random(t, rng):
    texts = [random_text(rng, rng.integer(1, 60)) for _ in range(15)] + EDGE_TEXTS
    return [t.pretokenize_gpt2(text) for text in texts]


@check("get_pair_counts on random words and on fixed ones: every adjacent pair, weighted, overlaps counted",
       promises=["`words`: `{tuple of bytes: frequency}`",
                 "every adjacent position counts (overlaps too), weighted by frequency"])
def pair_counts_random(t, rng):
    # every run: overlapping repeats ((a, a, a), (a, b, a, b)), words too short to have a pair
    fixed = {(b"a", b"a", b"a"): rng.integer(2, 9), (b"a", b"b", b"a", b"b"): rng.integer(2, 9),
             (b"b", b"a"): rng.integer(1, 9), (b"x",): rng.integer(1, 9), (): rng.integer(1, 9)}
    out = [plain_counts(t.get_pair_counts(fixed))]
    for _ in range(4):
        words = {}
        for _ in range(rng.integer(0, 15)):
            word = tuple(rng.choice([b"a", b"b", b"ab", b"\xe2", b" "]) for _ in range(rng.integer(0, 7)))
            words[word] = rng.integer(1, 9)
        out.append(plain_counts(t.get_pair_counts(words)))
    return out


@check("merge_pair on random words and fixed runs: all non-overlapping occurrences, left to right",
       promises=["every non-overlapping occurrence, left to right: `(a, a, a)` -> `(aa, a)`"])
def merge_pair_random(t, rng):
    a, b = b"a", b"b"
    fixed = [((a, a, a), (a, a)), ((a, a, a, a), (a, a)), ((a, a, a, a, a), (a, a)), ((a, b, a, b), (a, b)),
             ((b, a, b, a, b), (a, b)), ((), (a, b)), ((a,), (a, a)), ((b, a), (a, b))]
    out = [list(t.merge_pair(word, pair)) for word, pair in fixed]
    for _ in range(30):
        word = tuple(rng.choice([b"a", b"b", b"ab", b"ba"]) for _ in range(rng.integer(0, 9)))
        pair = (rng.choice([b"a", b"b", b"ab"]), rng.choice([b"a", b"b", b"ab"]))
        out.append(list(t.merge_pair(word, pair)))
    return out


@check("train_bpe on random small corpora: same merges and ids as the reference (incl. ties)",
       promises=["returns `(vocab, merges)`", "ids 0-255 = bytes in byte order, merge $k$ gets id $256+k$",
                 "most frequent pair, ties -> largest `(left, right)`", "stop at `vocab_size`"])
def train_random(t, rng):
    out = []
    for alphabet in ("abc", "abcdef", "xyz12 ", "aé中"):
        text = random_corpus(rng, rng.integer(20, 80), alphabet)
        vocab, merges = t.train_bpe(text, 256 + 1 + rng.integer(10, 40))
        out.append({"merges": plain_merges(merges), "vocab": plain_vocab(vocab)})
    return out


@check("train_bpe: special token lists, early stop when no pair is left, too-small vocab_size",
       promises=["ids 0-255 = bytes in byte order, merge $k$ gets id $256+k$, special tokens after",
                 "split on special tokens, count pairs only inside `pretokenize_gpt2` chunks",
                 "ties -> largest `(left, right)`", "or when no pair is left",
                 "`vocab_size < 256 + len(special_tokens)` -> `ValueError`"])
def train_specials_and_limits(t, rng):
    text = random_corpus(rng, 40, "abcd") + "<|pad|>" + random_corpus(rng, 10, "ab")
    no_specials = t.train_bpe(text, 256 + rng.integer(5, 15), ())
    two = t.train_bpe(text, 258 + rng.integer(5, 15), ("<|endoftext|>", "<|pad|>"))
    # runs out of pairs; its first step is a tie of (a, b) and (" ", a), 2 each: (a, b) is the larger
    short = t.train_bpe("ab ab a<|endoftext|>b", 300 + rng.integer(0, 5))
    return {
        "no_specials": [plain_merges(no_specials[1]), plain_vocab(no_specials[0])],
        "two": [plain_merges(two[1]), plain_vocab(two[0])],
        "short": [plain_merges(short[1]), plain_vocab(short[0])],
        "bytes_only": plain_vocab(t.train_bpe(text, 256, ())[0]),  # the smallest allowed sizes
        "bytes_and_eot": plain_vocab(t.train_bpe(text, 257)[0]),
        "too_small": [raises(t.train_bpe, text, 256), raises(t.train_bpe, text, 257, ("a", "b"))],
    }


@check("trained tokenizer: encode_chunk by merge rank, encode with/without specials, decode",
       promises=["merges by rank, lowest first, then ids via `self.encoder`",
                 "our `encode` allows all of them by default"])
def trained_tokenizer(t, rng):
    corpus = random_corpus(rng, 80, "abcde")
    _, _, tok = trained(t, corpus, 256 + 1 + rng.integer(15, 40))
    other = random_corpus(rng, 30, "abcdef") + EOT + random_text(rng, 10)
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


@check("encode's allowed_special on tokenizers with no, one and two special tokens: \"all\", the default, "
       "set(), frozenset(), part of the names, names the tokenizer lacks",
       promises=['`allowed_special` is `"all"` or a set of special-token names',
                 '`"all"` allows every special token of this tokenizer (a tokenizer without special tokens then '
                 'encodes all of `text` as ordinary text)',
                 "allowed specials become their ids, anything else (also the text of a special token that is "
                 "not allowed) is ordinary text",
                 "a name that is not a special token of this tokenizer -> `ValueError`",
                 "our `encode` allows all of them by default",
                 'pass `allowed_special=frozenset()` (or `set()`) to encode `"<|endoftext|>"` as plain text'])
def encode_allowed_special(t, rng):
    pad = "<|pad|>"
    corpus = random_corpus(rng, 60, "abcde") + pad + random_corpus(rng, 20, "abc")
    size = 256 + rng.integer(10, 30)
    vocab, merges = t.train_bpe(corpus, size, ())
    none = t.BPETokenizer(vocab, merges, {})
    _, _, one = trained(t, corpus, size + 1)
    _, _, two = trained(t, corpus, size + 2, (EOT, pad))
    # every run: both special tokens' text, at random places, twice each
    pieces = [random_corpus(rng, rng.integer(0, 8), "abcdef") for _ in range(5)]
    names = [EOT, pad, EOT, pad]
    rng.py.shuffle(names)
    text = "".join(p + n for p, n in zip(pieces, names)) + pieces[-1]
    return {
        "none": [none.encode(text), none.encode(text, allowed_special="all"), none.encode(text, set()),
                 error_case("encode(text, allowed_special={'<|endoftext|>'}) without special tokens",
                            none.encode, text, allowed_special={EOT})],
        "one": [one.encode(text), one.encode(text, allowed_special="all"), one.encode(text, set()),
                one.encode(text, allowed_special=frozenset()), one.encode(text, allowed_special={EOT}),
                error_case("encode(text, allowed_special={'<|pad|>'}) with only <|endoftext|>",
                           one.encode, text, allowed_special={pad})],
        "two": [two.encode(text), two.encode(text, allowed_special="all"), two.encode(text, set()),
                two.encode(text, allowed_special={pad}), two.encode(text, allowed_special=frozenset({EOT})),
                two.encode(text, allowed_special={EOT, pad})],
    }


@check("encode stores each chunk's ids in self.cache under the chunk's text, and reads them back from there",
       promises=["each chunk's ids are stored in `self.cache` (chunk text -> ids) and read back from there "
                 "when the chunk comes again"])
def encode_cache(t, rng):
    _, _, tok = trained(t, random_corpus(rng, 60, "abcde"), 256 + 1 + rng.integer(10, 30))
    text = random_corpus(rng, 20, "abcdef") + EOT + random_corpus(rng, 10, "abc")
    ids = tok.encode(text)
    # the entries of this text's chunks (a special token's text is no chunk: not looked at)
    stored = sorted([chunk, list(value)] for chunk, value in tok.cache.items() if chunk not in tok.special_tokens)
    # a planted entry must be read back: encode takes a cached chunk's ids from the cache
    chunk = " " + "".join(rng.choice("abcde") for _ in range(rng.integer(2, 6)))
    tok.cache[chunk] = planted = [rng.integer(0, 255) for _ in range(3)]
    return {"ids": ids, "stored": stored, "planted": planted,
            "with_planted": tok.encode("x" + chunk + chunk + " y")}


@check("GPT-2 encode equals tiktoken's gpt2 on random unicode/emoji/whitespace text",
       promises=["merges by rank, lowest first, then ids via `self.encoder`",
                 "our `encode` allows all of them by default"])
def gpt2_parity_random(t, rng):
    tok = t.load_gpt2_tokenizer()
    texts = [random_text(rng, rng.integer(1, 80)) for _ in range(25)] + EDGE_TEXTS
    return [tok.encode(text) for text in texts]


@check("GPT-2 encode of a Shakespeare excerpt, with and without allowed special tokens",
       promises=["allowed specials become their ids, anything else (also the text of a special token that is "
                 "not allowed) is ordinary text",
                 'pass `allowed_special=frozenset()` (or `set()`) to encode `"<|endoftext|>"` as plain text'])
def gpt2_parity_shakespeare(t, rng):
    tok = t.load_gpt2_tokenizer()
    play = shakespeare(rng.choice(["hamlet", "macbeth", "the-tempest"]))
    start = rng.integer(0, len(play) - 20000)
    excerpt = play[start:start + 20000]
    cut = rng.integer(0, len(excerpt))
    with_eot = excerpt[:cut] + "<|endoftext|>" + excerpt[cut:]
    return {"excerpt": tok.encode(excerpt), "eot": tok.encode(with_eot),
            "eot_as_text": tok.encode(with_eot, allowed_special=frozenset())}


@check("GPT-2 encode_chunk on arbitrary bytes (also invalid UTF-8)",
       promises=["merges by rank, lowest first, then ids via `self.encoder`"])
def gpt2_chunks_bytes(t, rng):
    tok = t.load_gpt2_tokenizer()
    return [tok.encode_chunk(random_bytes(rng, rng.integer(1, 8))) for _ in range(40)]


@check("GPT-2 decode_bytes/decode of random ids: exact bytes, invalid UTF-8 -> U+FFFD",
       promises=["concatenated token bytes", '`decode_bytes(ids).decode("utf-8", errors="replace")`'])
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


@check("from_gpt2_files: 50257 ids exactly as encoder.json, merges in vocab.bpe order",
       promises=["GPT-2's tokenizer with ids exactly as in `encoder.json` (50257 tokens, `<|endoftext|>` = 50256)",
                 "skip `vocab.bpe`'s `#version` line", "concatenated token bytes"])
def gpt2_vocab_files(t, rng):
    tok = t.load_gpt2_tokenizer()
    ids = [rng.integer(0, 50256) for _ in range(300)] + [0, 255, 256, 50255, 50256]
    ranks = [rng.integer(0, 49999) for _ in range(50)] + [0, 49999]
    return {"tokens": tok.decode_bytes(ids), "each": [tok.decode_bytes([i]) for i in ids],
            "merges": [list(tok.merges[r]) for r in ranks], "n_merges": len(tok.merges),
            "special": tok.special_tokens, "size": tok.vocab_size}


@check("decode of an unknown id (too large or negative) raises KeyError naming the id",
       promises=["unknown id -> `KeyError` naming it"])
def decode_unknown_id(t, rng):
    tok = t.load_gpt2_tokenizer()
    cases = []
    for bad in (50257 + rng.integer(0, 10**6), -rng.integer(1, 5)):
        good = rng.integer(0, 50256)
        cases.append(error_case(f"decode([{good}, {bad}])", tok.decode, [good, bad], names=[bad]))
        cases.append(error_case(f"decode_bytes([{bad}])", tok.decode_bytes, [bad], names=[bad]))
    return cases


@check("round trip decode(encode(text)) == text on random text",
       promises=["concatenated token bytes"])
def round_trip(t, rng):
    tok = t.load_gpt2_tokenizer()
    return [tok.decode(tok.encode(text)) for text in
            [random_text(rng, rng.integer(1, 50)) for _ in range(10)] + EDGE_TEXTS]
