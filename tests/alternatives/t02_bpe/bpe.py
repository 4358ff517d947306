"""Topic 02, written differently: incremental pair counts in training, a one-merge-at-a-time
encoder over a linked list, tiktoken's possessive regex, a nice-bytes-first byte table."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from functools import lru_cache
from pathlib import Path

import regex

from course.t01_tokenizer import ENDOFTEXT

_GPT2_SPLIT = regex.compile(
    r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""
)


def bytes_to_unicode():
    firsts = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    chars = list(firsts)
    extra = 0
    for b in range(256):
        if b not in firsts:
            firsts.append(b)
            chars.append(256 + extra)
            extra += 1
    return dict(zip(firsts, (chr(c) for c in chars)))  # insertion order: nice bytes first


def pretokenize_gpt2(text):
    return [m.group(0) for m in _GPT2_SPLIT.finditer(text)]


def get_pair_counts(words):
    total = Counter()
    for word, freq in words.items():
        for i in range(len(word) - 1):
            total[word[i], word[i + 1]] += freq
    return dict(total)


def merge_pair(word, pair):
    out = []
    skip = False
    for i, piece in enumerate(word):
        if skip:
            skip = False
            continue
        if i < len(word) - 1 and (piece, word[i + 1]) == pair:
            out.append(piece + word[i + 1])
            skip = True
        else:
            out.append(piece)
    return tuple(out)


def _pairs_of(word):
    return Counter(zip(word, word[1:]))


def train_bpe(text, vocab_size, special_tokens=(ENDOFTEXT,)):
    special_tokens = tuple(special_tokens)
    if len(special_tokens) != len(set(special_tokens)):
        raise ValueError("duplicate special tokens")
    budget = vocab_size - 256 - len(special_tokens)
    if budget < 0:
        raise ValueError(f"vocab_size={vocab_size} < 256 + {len(special_tokens)} special tokens")

    segments = [text]
    for special in special_tokens:
        segments = [part for segment in segments for part in segment.split(special)]
    freq = Counter()
    for segment in segments:
        for chunk in pretokenize_gpt2(segment):
            freq[tuple(bytes([b]) for b in chunk.encode("utf-8"))] += 1

    words = list(freq)
    counts = [freq[w] for w in words]
    pair_total = Counter()
    where = defaultdict(set)  # pair -> indices of words containing it
    for index, word in enumerate(words):
        for pair, n in _pairs_of(word).items():
            pair_total[pair] += n * counts[index]
            where[pair].add(index)

    merges = []
    while len(merges) < budget:
        live = [(n, p) for p, n in pair_total.items() if n > 0]
        if not live:
            break
        _, best = max(live)
        merges.append(best)
        for index in list(where[best]):
            old = words[index]
            new = merge_pair(old, best)
            if new == old:
                continue
            for pair, n in _pairs_of(old).items():
                pair_total[pair] -= n * counts[index]
            for pair, n in _pairs_of(new).items():
                pair_total[pair] += n * counts[index]
                where[pair].add(index)
            words[index] = new

    vocab = {b: bytes([b]) for b in range(256)}
    for offset, (a, b) in enumerate(merges):
        vocab[256 + offset] = a + b
    start = 256 + len(merges)
    vocab.update({start + i: s.encode("utf-8") for i, s in enumerate(special_tokens)})
    return vocab, merges


class BPETokenizer:
    def __init__(self, vocab, merges, special_tokens=None):
        self.special_tokens = dict(special_tokens or {})
        self.vocab = {int(i): bytes(b) for i, b in vocab.items()}
        for name, index in self.special_tokens.items():
            text = name.encode("utf-8")
            if self.vocab.setdefault(index, text) != text:
                raise ValueError(f"special token {name!r} clashes with vocab[{index}]")
        special_ids = set(self.special_tokens.values())
        self.encoder = {}
        for index in sorted(self.vocab):
            if index not in special_ids:
                self.encoder.setdefault(self.vocab[index], index)
        self.merges = [(bytes(a), bytes(b)) for a, b in merges]
        self.merge_ranks = {}
        for rank, pair in enumerate(self.merges):
            self.merge_ranks.setdefault(pair, rank)
        self.cache = {}

    @property
    def vocab_size(self):
        return max(self.vocab) + 1

    def encode_chunk(self, chunk):
        # Doubly linked list of pieces; merge the leftmost lowest-rank pair, one at a time.
        pieces = [bytes([b]) for b in chunk]
        nxt = list(range(1, len(pieces) + 1))
        prv = list(range(-1, len(pieces) - 1))
        alive = [True] * len(pieces)
        rank = self.merge_ranks.get
        while True:
            best_rank, best_at = None, None
            i = 0 if pieces else len(pieces)
            while i < len(pieces) and nxt[i] < len(pieces):
                r = rank((pieces[i], pieces[nxt[i]]))
                if r is not None and (best_rank is None or r < best_rank):
                    best_rank, best_at = r, i
                i = nxt[i]
            if best_at is None:
                break
            j = nxt[best_at]
            pieces[best_at] += pieces[j]
            alive[j] = False
            nxt[best_at] = nxt[j]
            if nxt[j] < len(pieces):
                prv[nxt[j]] = best_at
        return [self.encoder[p] for p, ok in zip(pieces, alive) if ok]

    def encode(self, text, allowed_special="all"):
        names = set(self.special_tokens) if allowed_special == "all" else set(allowed_special)
        if not names <= set(self.special_tokens):
            raise ValueError(f"not special tokens: {sorted(names - set(self.special_tokens))}")
        out = []
        start = 0
        finder = None
        if names:
            finder = regex.compile("|".join(regex.escape(n) for n in sorted(names, key=lambda n: -len(n))))
        while start <= len(text):
            match = finder.search(text, start) if finder else None
            end = match.start() if match else len(text)
            for chunk in pretokenize_gpt2(text[start:end]):
                ids = self.cache.get(chunk)
                if ids is None:
                    ids = self.cache[chunk] = self.encode_chunk(chunk.encode("utf-8"))
                out += ids
            if not match:
                break
            out.append(self.special_tokens[match.group(0)])
            start = match.end()
        return out

    def decode_bytes(self, ids):
        buffer = bytearray()
        for index in ids:
            index = int(index)
            if index not in self.vocab:
                raise KeyError(f"token id {index} is not in the vocabulary")
            buffer += self.vocab[index]
        return bytes(buffer)

    def decode(self, ids):
        return str(self.decode_bytes(ids), "utf-8", "replace")

    @classmethod
    def from_gpt2_files(cls, encoder_json_path, vocab_bpe_path):
        decoder = {c: b for b, c in bytes_to_unicode().items()}
        with open(encoder_json_path, encoding="utf-8") as f:
            table = json.load(f)
        vocab, specials = {}, {}
        for token, index in table.items():
            if token.startswith("<|") and token.endswith("|>"):
                specials[token] = index
            else:
                vocab[index] = bytes(bytearray(decoder[c] for c in token))
        merges = []
        with open(vocab_bpe_path, encoding="utf-8") as f:
            for line in f.read().split("\n")[1:]:
                if line:
                    a, b = line.split(" ")
                    merges.append((bytes(decoder[c] for c in a), bytes(decoder[c] for c in b)))
        return cls(vocab, merges, specials)


@lru_cache(maxsize=1)
def load_gpt2_tokenizer():
    from llmkit.data import gpt2_bpe_files

    return BPETokenizer.from_gpt2_files(*gpt2_bpe_files())
