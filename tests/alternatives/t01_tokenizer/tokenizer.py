"""Topic 01, written with re.split and a character scan instead of one findall."""

import re

ENDOFTEXT = "<|endoftext|>"
UNKNOWN = "<|unk|>"
SPECIAL_TOKENS = (ENDOFTEXT, UNKNOWN)
PUNCTUATION = ",.:;?_!\"()'"


def pretokenize(text):
    parts = re.split(r'([,.:;?_!"()\']|--|\s)', text)
    return [p for p in (part.strip() for part in parts) if p]


def build_vocab(tokens):
    vocab = {}
    for word in sorted({w for w in tokens if w not in SPECIAL_TOKENS}):
        vocab[word] = len(vocab)
    for special in SPECIAL_TOKENS:
        vocab[special] = len(vocab)
    return vocab


class SimpleTokenizer:
    def __init__(self, vocab):
        self.vocab = dict(vocab)
        self.inverse = {i: s for s, i in vocab.items()}

    def encode(self, text):
        ids = []
        for piece in pretokenize(text):
            ids.append(self.vocab[piece] if piece in self.vocab else self.vocab[UNKNOWN])
        return ids

    def decode(self, ids):
        words = [self.inverse[i] for i in ids]
        text = " ".join(words)
        return re.sub(r' ([,.:;?_!"()\'])(?= |$)', r"\1", text)
