"""Hidden checks for topic 01 - Tokenizer from scratch (fresh seed every run)."""

from checks.t01_tokenizer import WORDS, canonical_text, random_text
from llmkit.checks import check
from llmkit.probing import raises


@check("pretokenize on random text: punctuation, '--', glued words, tabs and newlines")
def pretokenize_random(t, rng):
    texts = [random_text(rng, rng.integer(1, 60), glued=rng.py.random()) for _ in range(8)]
    texts += ["", "   \n\t ", "----", "a--b---c", "(x)", "'quoted'"]
    return [t.pretokenize(text) for text in texts]


@check("build_vocab: sorted ids, specials last, duplicates and specials counted once")
def vocab_random(t, rng):
    tokens = t.pretokenize(random_text(rng, 80))
    with_specials = tokens + [rng.choice(["<|unk|>", "<|endoftext|>"])] + tokens[:5]
    return [t.build_vocab(tokens), t.build_vocab(with_specials), t.build_vocab([])]


@check("encode: known words get their ids, unknown words get <|unk|>")
def encode_unknown(t, rng):
    train, other = random_text(rng, 50), random_text(rng, 40)
    tokenizer = t.SimpleTokenizer(t.build_vocab(t.pretokenize(train)))
    unseen = "zebra " + other + " quixotic"
    return [tokenizer.encode(train), tokenizer.encode(unseen), tokenizer.encode("")]


@check("decode: single spaces, none before punctuation, on random id sequences")
def decode_random(t, rng):
    vocab = t.build_vocab(WORDS + list(",.:;?_!\"()'") + ["--"])
    tokenizer = t.SimpleTokenizer(vocab)
    ids = [rng.integer(0, len(vocab) - 1) for _ in range(rng.integer(1, 40))]
    punctuation = [vocab[p] for p in ",.:;?_!\"()'"]
    ids += [rng.choice(punctuation), vocab[rng.choice(WORDS)], rng.choice(punctuation)]
    return [tokenizer.decode(ids), tokenizer.decode([]), tokenizer.decode(ids[:1]),
            tokenizer.decode(punctuation)]


@check("decode(encode(text)) == text for canonical text")
def round_trip_random(t, rng):
    out = []
    for _ in range(5):
        text = canonical_text(rng, rng.integer(1, 40))
        tokenizer = t.SimpleTokenizer(t.build_vocab(t.pretokenize(text)))
        out.append(tokenizer.decode(tokenizer.encode(text)))
    return out


@check("decode of an unknown id raises KeyError")
def decode_unknown_id(t, rng):
    vocab = t.build_vocab(rng.sample(WORDS, 5))
    return raises(t.SimpleTokenizer(vocab).decode, [0, len(vocab) + rng.integer(0, 50)])
