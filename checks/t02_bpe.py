"""Public checks for topic 02 - Byte Pair Encoding."""

import unicodedata

from llmkit.checks import check
from llmkit.probing import Rng, error_case, raises

SAMPLE = "Hello   world's 42 cafés!! <|endoftext|> 你好 👍🏽\n\n  end  "

# Pools for random text. Everything here is old, stable Unicode, so the regex
# classes of every library version agree on it.
ASCII_WORDS = ["the", "The", "king", "Hamlet", "to", "be", "or", "not", "a", "I", "x", "GPT",
               "don", "we", "they", "rose", "night", "HELLO", "mIxEd", "z", "well", "known"]
CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'RE", "'Ll", "'", "''", "'x"]
NUMBERS = ["0", "7", "42", "2024", "3.14", "1,000", "007", "١٢٣", "²", "½", "Ⅻ", "10e9"]
PUNCT = ["!", "!!!", "?", "...", ",", ".", "--", "—", "(", ")", "[", "]", "{}", "@#$%", '"', "`",
         "~", "&", "/", "\\", ":-)", "<", ">", "|", "<|", "|>", "<|endoftext", "_", "*", "+="]
SPACES = [" ", " ", " ", "  ", "   ", "\t", "\n", "\n\n", " \n", "\r\n", "\t\t ", " \t ", "\u00a0",
          "\u3000", "\n \n", "    "]
ACCENTED = ["café", "naïve", "Ångström", "über", "façade", "résumé", "ñ", "e\u0301", "Æsir",
            "ça", "Łódź", "straße", "İ"]
SCRIPTS = ["你好", "世界", "日本語", "한국어", "カタカナ", "ひらがな", "Привет", "мир", "مرحبا", "שלום",
           "Ελληνικά", "हिन्दी", "ไทย", "中"]
EMOJI = ["😀", "👍", "👍🏽", "👨\u200d👩\u200d👧\u200d👦", "🏳️\u200d🌈", "❤️", "🇫🇷", "🤖", "1️⃣",
         "👩🏿\u200d💻", "🎉🎉", "✨", "🙂"]
SPECIAL = ["<|endoftext|>"]
POOLS = [(ASCII_WORDS, 8), (CONTRACTIONS, 3), (NUMBERS, 2), (PUNCT, 3), (ACCENTED, 2),
         (SCRIPTS, 2), (EMOJI, 2), (SPECIAL, 1)]

# Unicode blocks for single random code points (assigned characters only).
BLOCKS = [(0x20, 0x7E), (0xA0, 0x24F), (0x370, 0x3FF), (0x400, 0x4FF), (0x590, 0x6FF),
          (0x900, 0x97F), (0x2000, 0x206F), (0x2190, 0x2BFF), (0x3040, 0x30FF), (0x4E00, 0x9FFF),
          (0xAC00, 0xD7A3), (0x1F300, 0x1F64F), (0x1F680, 0x1F6FF), (0x1F900, 0x1F9FF)]


def random_char(rng: Rng) -> str:
    """One assigned, printable-ish code point from a common Unicode block."""
    while True:
        low, high = rng.choice(BLOCKS)
        char = chr(rng.integer(low, high))
        if unicodedata.category(char) not in ("Cn", "Co", "Cs"):
            return char


def random_text(rng: Rng, n_pieces: int = 30) -> str:
    """Random mix of words, contractions, numbers, punctuation, scripts, emoji and whitespace."""
    weights = [w for _, w in POOLS]
    parts = []
    for _ in range(n_pieces):
        roll = rng.integer(1, sum(weights) + 1)
        if roll > sum(weights):
            parts.append("".join(random_char(rng) for _ in range(rng.integer(1, 3))))
        else:
            for pool, weight in POOLS:
                roll -= weight
                if roll <= 0:
                    parts.append(rng.choice(pool))
                    break
        if rng.coin(0.6):
            parts.append(rng.choice(SPACES))
    if rng.coin(0.3):
        parts.append(rng.choice(SPACES))  # trailing whitespace
    return "".join(parts)


def random_corpus(rng: Rng, n_words: int = 60, alphabet: str = "abcde") -> str:
    """Small training corpus of short words over a tiny alphabet (many tied pair counts)."""
    words = []
    for _ in range(n_words):
        words.append("".join(rng.choice(alphabet) for _ in range(rng.integer(1, 6))))
        if rng.coin(0.1):
            words.append(rng.choice([".", "!", "'s", "12", "<|endoftext|>", "é"]))
    return " ".join(words)


def plain_vocab(vocab) -> dict:
    """vocab (id -> bytes) as plain data: ids in increasing order and their bytes."""
    ids = sorted(vocab)
    return {"ids": ids, "tokens": [vocab[i] for i in ids]}


def plain_merges(merges) -> list:
    return [[left, right] for left, right in merges]


def plain_counts(counts) -> list:
    """dict pair -> count as a sorted list of [left, right, count]."""
    return sorted([left, right, count] for (left, right), count in counts.items())


def trained(t, text: str, vocab_size: int, special_tokens=("<|endoftext|>",)):
    """(vocab, merges, tokenizer) from the learner's train_bpe."""
    vocab, merges = t.train_bpe(text, vocab_size, special_tokens)
    specials = {name: 256 + len(merges) + i for i, name in enumerate(special_tokens)}
    return vocab, merges, t.BPETokenizer(vocab, merges, specials)


TINY_CORPUS = ("low low low low low lower lower newest newest newest newest newest newest "
               "widest widest widest<|endoftext|>low new")


@check("bytes_to_unicode: GPT-2's 256 byte -> printable character table")
def byte_table(t, rng):
    table = t.bytes_to_unicode()
    return {"keys": sorted(table), "chars": [table.get(b) for b in range(256)]}


@check("pretokenize_gpt2 splits like GPT-2: contractions, ' word', digits, punctuation, spaces")
def pretokenize(t, rng):
    return [t.pretokenize_gpt2(SAMPLE), t.pretokenize_gpt2(random_text(rng, 12))]


@check("get_pair_counts counts adjacent pairs weighted by word frequency")
def pair_counts(t, rng):
    words = {(b"l", b"o", b"w"): 5, (b"l", b"o", b"w", b"e", b"r"): 2, (b"a", b"a", b"a"): 3,
             (b"x",): 9, (b"lo", b"w"): rng.integer(1, 4)}
    return plain_counts(t.get_pair_counts(words))


@check("merge_pair merges every non-overlapping occurrence, left to right")
def merge(t, rng):
    cases = [((b"l", b"o", b"w", b"l", b"o"), (b"l", b"o")),
             ((b"a", b"a", b"a"), (b"a", b"a")),
             ((b"a", b"a", b"a", b"a"), (b"a", b"a")),
             ((b"x", b"y"), (b"y", b"x")),
             ((), (b"a", b"b"))]
    return [list(t.merge_pair(word, pair)) for word, pair in cases]


@check("train_bpe on a tiny corpus: merges, ids 256.., special token last")
def train(t, rng):
    vocab, merges = t.train_bpe(TINY_CORPUS, 256 + 1 + 8 + rng.integer(0, 2))
    return {"merges": plain_merges(merges), "vocab": plain_vocab(vocab)}


@check("train_bpe raises ValueError when vocab_size < 256 + number of special tokens")
def train_too_small(t, rng):
    return raises(t.train_bpe, "some text", 256)


@check("BPETokenizer.encode/decode with a tiny trained vocabulary")
def tiny_tokenizer(t, rng):
    _, _, tok = trained(t, TINY_CORPUS, 256 + 1 + 10)
    text = "lowest newer wider<|endoftext|> low"
    ids = tok.encode(text)
    return {"chunk": tok.encode_chunk(b"newest"), "ids": ids,
            "no_special": tok.encode(text, allowed_special=frozenset()), "text": tok.decode(ids)}


@check("GPT-2 tokenizer from encoder.json/vocab.bpe: same ids as tiktoken")
def gpt2_encode(t, rng):
    tok = t.load_gpt2_tokenizer()
    return {"sample": tok.encode(SAMPLE), "random": tok.encode(random_text(rng, 15)),
            "hello": tok.encode_chunk(b" hello"), "eot": tok.encode("<|endoftext|>")}


@check("GPT-2 decode: bytes of any ids, invalid UTF-8 replaced by U+FFFD")
def gpt2_decode(t, rng):
    tok = t.load_gpt2_tokenizer()
    ids = [rng.integer(0, 50256) for _ in range(8)] + [188, 50256, 49426, 31479]
    return {"bytes": tok.decode_bytes(ids), "text": tok.decode(ids),
            "round_trip": tok.decode(tok.encode(SAMPLE))}


@check("decode of an unknown id raises KeyError naming the id")
def decode_unknown(t, rng):
    bad = 50257 + rng.integer(0, 10)
    return error_case(f"decode([15496, {bad}])", t.load_gpt2_tokenizer().decode, [15496, bad], names=[bad])
