"""Public checks for topic 01 - Tokenizer from scratch."""

from llmkit.checks import check
from llmkit.probing import Rng, raises

SAMPLE = ('"It\'s the last time," she said--quietly. Then: (a pause) well-known words; '
          'why? Because!\n\tNew line_here.')

WORDS = ["the", "king", "Hamlet", "well-known", "naïve", "a1", "x", "42", "über", "it", "s",
         "Ophelia", "to", "be", "or", "not", "O", "night", "-", "---", "co-op", "end-"]
PUNCT = list(",.:;?_!\"()'") + ["--"]
SPACES = [" ", " ", " ", "  ", "\t", "\n", " \n "]


def random_text(rng: Rng, n_pieces: int = 30, glued: float = 0.4) -> str:
    """Words and punctuation, sometimes glued together, separated by mixed whitespace."""
    parts = []
    for _ in range(n_pieces):
        parts.append(rng.choice(PUNCT) if rng.coin(0.35) else rng.choice(WORDS))
        if not rng.coin(glued):
            parts.append(rng.choice(SPACES))
    return "".join(parts)


def canonical_text(rng: Rng, n_words: int = 25) -> str:
    """Text in the form decode() produces: single spaces, none before punctuation."""
    tokens = [rng.choice(WORDS) for _ in range(n_words)]
    for _ in range(n_words // 3):
        tokens.insert(rng.integer(1, len(tokens)), rng.choice(list(",.:;?!")))
    text = tokens[0]
    for token in tokens[1:]:
        text += token if token in ",.:;?!" else " " + token
    return text


@check("pretokenize splits words, punctuation and '--', and drops whitespace")
def pretokenize_text(t, rng):
    return [t.pretokenize(SAMPLE), t.pretokenize(random_text(rng))]


@check("build_vocab sorts the distinct tokens and appends <|endoftext|>, <|unk|>")
def vocab(t, rng):
    return t.build_vocab(t.pretokenize(random_text(rng)))


@check("encode maps tokens to ids and unknown words to <|unk|>")
def encode(t, rng):
    tokenizer = t.SimpleTokenizer(t.build_vocab(t.pretokenize(SAMPLE)))
    return [tokenizer.encode(SAMPLE), tokenizer.encode("Hamlet said: the pause, why?")]


@check("decode puts no space before punctuation")
def decode(t, rng):
    tokenizer = t.SimpleTokenizer(t.build_vocab(t.pretokenize(SAMPLE)))
    ids = tokenizer.encode(SAMPLE)
    return tokenizer.decode(ids)


@check("decode(encode(text)) gives back canonical text")
def round_trip(t, rng):
    text = canonical_text(rng)
    tokenizer = t.SimpleTokenizer(t.build_vocab(t.pretokenize(text)))
    return tokenizer.decode(tokenizer.encode(text))


@check("decode of an id outside the vocabulary raises KeyError")
def decode_bad_id(t, rng):
    tokenizer = t.SimpleTokenizer(t.build_vocab(["a", "b"]))
    return raises(tokenizer.decode, [0, 99])
