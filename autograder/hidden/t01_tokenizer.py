"""Hidden checks for topic 01 - Tokenizer from scratch (fresh seed every run)."""

from checks.t01_tokenizer import PUNCT, WORDS, canonical_text, random_text
from llmkit.checks import check
from llmkit.probing import error_case, raises

NOT_BEHAVIOUR = {
    "In `tokenizer.py`:": "where the code goes",
    "Given: the constants": "describes code the kit provides, not code the learner writes",
}

# Every run, not only when a random draw lands there: each PUNCTUATION character and "--"
# glued between words, runs of dashes, hyphenated words, and each common kind of whitespace.
FIXED_TEXTS = ["w" + "w".join(PUNCT) + "w", "", "   \n\t ", "a\tb\nc\r\nd  e\n", "----", "a--b---c",
               "(x)", "'quoted'", "well-known co-op end- -x -", "--well--known--"]


@check("pretokenize on random text and on fixed texts with every punctuation character, '--', "
       "hyphenated words, tabs and newlines",
       promises=["every character of `PUNCTUATION` and the double dash `--` is a piece of its own",
                 "any other run of non-whitespace characters is one piece (`well-known` stays whole)",
                 "whitespace (spaces, tabs, newlines, ...) is dropped"])
def pretokenize_random(t, rng):
    texts = [random_text(rng, rng.integer(1, 60), glued=rng.py.random()) for _ in range(8)]
    return [t.pretokenize(text) for text in texts + FIXED_TEXTS]


@check("build_vocab: sorted ids, specials last, duplicates and both specials counted once",
       promises=["distinct tokens sorted (Python string order) and numbered from 0, then `<|endoftext|>` and "
                 "`<|unk|>` appended in that order", "specials are never counted twice"])
def vocab_random(t, rng):
    tokens = t.pretokenize(random_text(rng, 80))
    specials = rng.sample(["<|unk|>", "<|endoftext|>"], 2)  # both, in a random order
    with_specials = tokens[:3] + specials[:1] + tokens[3:] + specials + tokens[:5]
    return [t.build_vocab(tokens), t.build_vocab(with_specials), t.build_vocab([]),
            t.build_vocab(specials)]


@check("encode: known words get their ids, unknown words get <|unk|>",
       promises=["ids of `pretokenize(text)`",
                 "a piece missing from the vocabulary gets the id of `<|unk|>`"])
def encode_unknown(t, rng):
    train, other = random_text(rng, 50), random_text(rng, 40)
    tokenizer = t.SimpleTokenizer(t.build_vocab(t.pretokenize(train)))
    unseen = "zebra " + other + " quixotic"
    return [tokenizer.encode(train), tokenizer.encode(unseen), tokenizer.encode("")]


@check("decode: single spaces, none before a single punctuation character, a space before '--', "
       "on random id sequences",
       promises=["pieces joined by single spaces, except no space before a piece that is a single "
                 "`PUNCTUATION` character (so `--` gets a space)"])
def decode_random(t, rng):
    vocab = t.build_vocab(WORDS + PUNCT)
    tokenizer = t.SimpleTokenizer(vocab)
    ids = [rng.integer(0, len(vocab) - 1) for _ in range(rng.integer(1, 40))]
    punctuation = [vocab[p] for p in ",.:;?_!\"()'"]
    ids += [rng.choice(punctuation), vocab[rng.choice(WORDS)], rng.choice(punctuation)]
    dash, word = vocab["--"], vocab[rng.choice(WORDS)]
    return [tokenizer.decode(ids), tokenizer.decode([]), tokenizer.decode(ids[:1]),
            tokenizer.decode(punctuation), tokenizer.decode([dash, word, dash, dash, punctuation[0], dash])]


@check("decode(encode(text)) == text for canonical text",
       promises=["ids of `pretokenize(text)`", "pieces joined by single spaces"])
def round_trip_random(t, rng):
    out = []
    for _ in range(5):
        text = canonical_text(rng, rng.integer(1, 40))
        tokenizer = t.SimpleTokenizer(t.build_vocab(t.pretokenize(text)))
        out.append(tokenizer.decode(tokenizer.encode(text)))
    return out


@check("decode of an unknown id (too large or negative) raises KeyError",
       promises=["an id that is not in the vocabulary (too large, or negative) raises `KeyError`"])
def decode_unknown_id(t, rng):
    vocab = t.build_vocab(rng.sample(WORDS, 5))
    decode = t.SimpleTokenizer(vocab).decode
    too_large, negative = len(vocab) + rng.integer(0, 50), -rng.integer(1, len(vocab))
    return [raises(decode, [0, too_large]), raises(decode, [len(vocab)]),
            error_case(f"decode([0, {negative}])", decode, [0, negative])]
