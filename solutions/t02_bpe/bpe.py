"""Topic 02 - byte-level Byte Pair Encoding (BPE), the tokenizer of GPT-2.

Topic 01's word tokenizer needs an ``<|unk|>`` token for every word it has not
seen. Byte-level BPE never does: any text is a sequence of UTF-8 bytes, the 256
single bytes are all in the vocabulary, and training only *adds* tokens for
frequent byte sequences ("merges"). Encoding replays the merges; decoding
concatenates bytes.

The pipeline, for GPT-2 and for the tiny tokenizers trained here::

    text --split on special tokens--> pieces
         --pretokenize_gpt2-->         chunks  ("Hello", " world", "!", ...)
         --UTF-8-->                    bytes of each chunk
         --encode_chunk (merges)-->    token ids

Conventions of this module
* a *word* is a tuple of ``bytes`` objects, e.g. ``(b"l", b"o", b"w")``; a
  *pair* is two adjacent elements, e.g. ``(b"l", b"o")``;
* ``vocab`` maps id -> bytes, ``merges`` is the ordered list of merged pairs:
  merge ``i`` has *rank* ``i`` (lower rank = learned earlier = applied first).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import regex

# resolves to your own topic 01 (or to the reference when grading falls back; see llmkit/resolver.py)
from course.t01_tokenizer import ENDOFTEXT

Word = tuple[bytes, ...]
Pair = tuple[bytes, bytes]


# ----------------------------------------------------------------------------- the byte table


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible table byte value (0..255) -> one printable character.

    ``encoder.json`` and ``vocab.bpe`` store tokens as text, so every byte needs a
    visible stand-in character (a raw space, newline or control byte would break
    the file format). The rule:

    * the 188 "nice" bytes - ``!`` (33) .. ``~`` (126), ``¡`` (161) .. ``¬`` (172)
      and ``®`` (174) .. ``ÿ`` (255) - stand for themselves: ``chr(b)``;
    * the other 68 bytes (0..32, 127..160, 173), taken in increasing byte order,
      get ``chr(256)``, ``chr(257)``, ... ``chr(323)``. So the space (32) is
      ``"Ġ"`` (chr(288)) and the newline (10) is ``"Ċ"`` (chr(266)).

    The dict has 256 entries (one per byte value) and 256 distinct values.

    >>> bytes_to_unicode()[ord("A")], bytes_to_unicode()[32]
    ('A', 'Ġ')
    """
    ### BEGIN SOLUTION
    nice = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1),
            *range(ord("®"), ord("ÿ") + 1)]
    nice_set = set(nice)
    table: dict[int, str] = {}
    shifted = 0  # how many "ugly" bytes have been given a stand-in so far
    for byte in range(256):
        if byte in nice_set:
            table[byte] = chr(byte)
        else:
            table[byte] = chr(256 + shifted)
            shifted += 1
    return table
    ### END SOLUTION


# ----------------------------------------------------------------------------- pre-tokenization


def pretokenize_gpt2(text: str) -> list[str]:
    """Split ``text`` into GPT-2's pre-tokens ("chunks"); BPE never merges across them.

    The chunks concatenate back to ``text`` exactly (nothing is dropped). Tried in
    this order at each position, first match wins:

    1. an English contraction suffix: ``'s 't 're 've 'm 'll 'd`` (lower case only);
    2. an optional single space, then a run of letters (``\\p{L}``);
    3. an optional single space, then a run of digits/numbers (``\\p{N}``);
    4. an optional single space, then a run of anything that is neither
       whitespace, letter nor number (punctuation, emoji, ...);
    5. a run of whitespace *not followed by a non-space* (``\\s+(?!\\S)``): in a run
       of spaces before a word, the last space is left over so that it can join
       the word (rule 2);
    6. any remaining run of whitespace.

    Uses the ``regex`` package (the built-in ``re`` has no ``\\p{L}``). The result
    equals tiktoken's ``gpt2`` encoding's chunks.

    >>> pretokenize_gpt2("Hello   world's 42!!")
    ['Hello', '  ', ' world', "'s", ' 42', '!!']
    """
    ### BEGIN SOLUTION
    pattern = (
        r"'s|'t|'re|'ve|'m|'ll|'d"  # contractions
        r"| ?\p{L}+"  # words, with their leading space
        r"| ?\p{N}+"  # numbers
        r"| ?[^\s\p{L}\p{N}]+"  # punctuation, symbols, emoji
        r"|\s+(?!\S)"  # whitespace, leaving the last space for the next word
        r"|\s+"  # whitespace at the very end / before a non-space
    )
    return regex.findall(pattern, text)
    ### END SOLUTION


# ----------------------------------------------------------------------------- training


def get_pair_counts(words: dict[Word, int]) -> dict[Pair, int]:
    """Count adjacent pairs over a corpus of words weighted by their frequency.

    ``words`` maps a word (tuple of byte strings) to how often it occurs. Every
    adjacent position counts, overlapping ones too: ``{(b"a", b"a", b"a"): 2}``
    gives ``{(b"a", b"a"): 4}``. Words of length 0 or 1 contribute nothing.
    Pairs with count 0 are absent.

    >>> get_pair_counts({(b"l", b"o", b"w"): 3, (b"l", b"o"): 1})
    {(b'l', b'o'): 4, (b'o', b'w'): 3}
    """
    ### BEGIN SOLUTION
    counts: dict[Pair, int] = {}
    for word, freq in words.items():
        for pair in zip(word, word[1:]):
            counts[pair] = counts.get(pair, 0) + freq
    return counts
    ### END SOLUTION


def merge_pair(word: Word, pair: Pair) -> Word:
    """Replace every occurrence of ``pair`` in ``word`` by the joined bytes.

    Scans left to right; occurrences never overlap: ``(a, a, a)`` with pair
    ``(a, a)`` gives ``(aa, a)``, not ``(a, aa)``. A word without the pair comes
    back unchanged (as a tuple).

    >>> merge_pair((b"l", b"o", b"w", b"l", b"o"), (b"l", b"o"))
    (b'lo', b'w', b'lo')
    """
    ### BEGIN SOLUTION
    left, right = pair
    merged: list[bytes] = []
    i = 0
    while i < len(word):
        if i + 1 < len(word) and word[i] == left and word[i + 1] == right:
            merged.append(left + right)
            i += 2  # skip both halves: no overlapping matches
        else:
            merged.append(word[i])
            i += 1
    return tuple(merged)
    ### END SOLUTION


def train_bpe(
    text: str, vocab_size: int, special_tokens: Iterable[str] = (ENDOFTEXT,)
) -> tuple[dict[int, bytes], list[Pair]]:
    """Learn a byte-level BPE vocabulary from ``text``.

    Returns ``(vocab, merges)``:

    * ``vocab`` (id -> bytes): ids ``0..255`` are the single bytes in byte order
      (``vocab[i] == bytes([i])``); merge ``k`` adds id ``256 + k`` whose bytes are
      ``left + right``; then each special token gets the next id, in the order
      given, as its UTF-8 bytes.
    * ``merges``: the learned pairs ``(left, right)``, in the order learned.

    Algorithm:

    1. cut ``text`` at every special token (they are removed, never learned from);
    2. ``pretokenize_gpt2`` each piece; each chunk's UTF-8 bytes become a word
       ``(b"H", b"i")``; count how often each word occurs;
    3. repeat until ``len(vocab)`` would reach ``vocab_size`` (counting the
       specials) or no adjacent pair is left: count pairs (``get_pair_counts``),
       take the most frequent pair, **ties broken by the lexicographically
       largest ``(left, right)``** (compare ``left`` bytes first, then ``right``),
       record it and ``merge_pair`` it in every word.

    So merges never cross chunk boundaries, and the result is deterministic.
    ``vocab_size < 256 + len(special_tokens)`` raises ``ValueError``; so do
    duplicate special tokens.
    """
    ### BEGIN SOLUTION
    specials = list(special_tokens)
    if len(set(specials)) != len(specials):
        raise ValueError(f"train_bpe: duplicate special tokens in {specials!r}")
    if vocab_size < 256 + len(specials):
        raise ValueError(
            f"train_bpe: vocab_size={vocab_size} is too small: the 256 bytes and "
            f"{len(specials)} special token(s) need at least {256 + len(specials)}"
        )

    # 1-2. Word frequencies, never looking across special tokens or chunks.
    pieces = [text]
    if specials:
        pieces = re.split("|".join(re.escape(s) for s in specials), text)
    chunk_counts = Counter(chunk for piece in pieces for chunk in pretokenize_gpt2(piece))
    words: dict[Word, int] = {}
    for chunk, freq in chunk_counts.items():
        word = tuple(bytes([b]) for b in chunk.encode("utf-8"))
        words[word] = words.get(word, 0) + freq

    # 3. Greedy merges.
    vocab = {i: bytes([i]) for i in range(256)}
    merges: list[Pair] = []
    while len(vocab) + len(specials) < vocab_size:
        counts = get_pair_counts(words)
        if not counts:
            break  # every word is a single token already
        best = max(counts, key=lambda pair: (counts[pair], pair))
        merges.append(best)
        vocab[255 + len(merges)] = best[0] + best[1]  # merge k (from 0) gets id 256 + k
        words = {merge_pair(word, best): freq for word, freq in words.items()}

    for token in specials:
        vocab[len(vocab)] = token.encode("utf-8")
    return vocab, merges
    ### END SOLUTION


# ----------------------------------------------------------------------------- the tokenizer


class BPETokenizer:
    """Byte-level BPE tokenizer: ``encode(text) -> ids`` and ``decode(ids) -> text``.

    Constructor arguments (the contract later topics rely on):

    * ``vocab``: id -> bytes of every ordinary token; must contain all 256
      single bytes and the bytes ``left + right`` of every merge;
    * ``merges``: ordered list of byte pairs; position = rank (0 applied first);
    * ``special_tokens``: name -> id, e.g. ``{"<|endoftext|>": 50256}``; a special
      token is never produced by merges, only by finding its exact text.

    Attributes built here (given): ``vocab`` (id -> bytes, specials included),
    ``encoder`` (bytes -> id of ordinary tokens; if two ids share the same bytes
    the lower id wins), ``merge_ranks`` (pair -> rank), ``special_tokens``,
    ``cache`` (chunk text -> ids, filled by ``encode``).
    """

    def __init__(
        self,
        vocab: dict[int, bytes],
        merges: list[Pair],
        special_tokens: dict[str, int] | None = None,
    ):
        self.special_tokens = dict(special_tokens or {})
        self.vocab: dict[int, bytes] = {int(i): bytes(b) for i, b in vocab.items()}
        for name, index in self.special_tokens.items():
            text = name.encode("utf-8")
            if self.vocab.setdefault(index, text) != text:
                raise ValueError(
                    f"BPETokenizer: special token {name!r} has id {index}, but vocab[{index}] "
                    f"is {self.vocab[index]!r}"
                )
        special_ids = set(self.special_tokens.values())
        self.encoder: dict[bytes, int] = {}
        for index in sorted(self.vocab):
            if index not in special_ids:
                self.encoder.setdefault(self.vocab[index], index)
        missing = [b for b in range(256) if bytes([b]) not in self.encoder]
        if missing:
            raise ValueError(f"BPETokenizer: vocab lacks single bytes, e.g. {bytes(missing[:5])!r}")
        self.merges: list[Pair] = [(bytes(a), bytes(b)) for a, b in merges]
        self.merge_ranks: dict[Pair, int] = {}
        for rank, (left, right) in enumerate(self.merges):
            if left + right not in self.encoder:
                raise ValueError(
                    f"BPETokenizer: merge {rank} {(left, right)!r} gives {left + right!r}, "
                    f"which is not in vocab"
                )
            self.merge_ranks.setdefault((left, right), rank)
        self.cache: dict[str, list[int]] = {}

    @property
    def vocab_size(self) -> int:
        """One more than the largest id (GPT-2: 50257)."""
        return max(self.vocab) + 1

    def encode_chunk(self, chunk: bytes) -> list[int]:
        """Token ids of one pre-token's bytes.

        Start from single bytes; while some adjacent pair is in ``merge_ranks``,
        take the pair with the **lowest rank** and merge all its occurrences
        (``merge_pair``); finally map each piece to its id with ``encoder``.
        Empty input gives ``[]``.

        >>> tok.encode_chunk(b" hello")  # GPT-2
        [23748]
        """
        ### BEGIN SOLUTION
        word: Word = tuple(bytes([b]) for b in chunk)
        while len(word) > 1:
            ranked = [(self.merge_ranks[p], p) for p in zip(word, word[1:]) if p in self.merge_ranks]
            if not ranked:
                break
            _, best = min(ranked)
            word = merge_pair(word, best)
        return [self.encoder[piece] for piece in word]
        ### END SOLUTION

    def encode(self, text: str, allowed_special: str | set[str] | frozenset = "all") -> list[int]:
        """Token ids of ``text``.

        ``allowed_special``: ``"all"`` (default: every special token of this
        tokenizer - none at all for a tokenizer built without special tokens, which
        then encodes the whole text as ordinary text), or a set of special-token
        names (``set()`` / ``frozenset()``: none). Allowed special tokens found in
        ``text`` become their ids; everything else - including the text of a
        special token that is not allowed - is encoded as ordinary text. A name
        that is not a special token of this tokenizer raises ``ValueError``.

        Each remaining piece is split with ``pretokenize_gpt2``; each chunk's ids
        (UTF-8, ``encode_chunk``) are stored in ``self.cache`` under the chunk's
        text and read back from there when the same chunk comes again, so long
        texts with repeated words are fast.

        Matches ``tiktoken``'s ``encode(text, allowed_special=...)`` for GPT-2.
        """
        ### BEGIN SOLUTION
        if allowed_special == "all":
            allowed = set(self.special_tokens)
        else:
            allowed = set(allowed_special)
            unknown = allowed - set(self.special_tokens)
            if unknown:
                raise ValueError(
                    f"encode: allowed_special has names that are not special tokens: {sorted(unknown)}"
                )
        pieces = [text]
        if allowed:
            # Longest first, so a special token that contains another one wins.
            names = sorted(allowed, key=len, reverse=True)
            pieces = re.split("(" + "|".join(re.escape(n) for n in names) + ")", text)
        ids: list[int] = []
        for i, piece in enumerate(pieces):
            if i % 2 == 1:  # re.split puts the captured separators at odd positions
                ids.append(self.special_tokens[piece])
                continue
            for chunk in pretokenize_gpt2(piece):
                if chunk not in self.cache:
                    self.cache[chunk] = self.encode_chunk(chunk.encode("utf-8"))
                ids.extend(self.cache[chunk])
        return ids
        ### END SOLUTION

    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        """The bytes of ``ids`` concatenated (special tokens as their UTF-8 text).

        An id not in the vocabulary raises ``KeyError`` whose message names the id.
        """
        ### BEGIN SOLUTION
        parts = []
        for position, index in enumerate(ids):
            try:
                parts.append(self.vocab[int(index)])
            except KeyError:
                raise KeyError(
                    f"decode: unknown token id {int(index)} at position {position} "
                    f"(valid ids: 0..{self.vocab_size - 1})"
                ) from None
        return b"".join(parts)
        ### END SOLUTION

    def decode(self, ids: Iterable[int]) -> str:
        """Text of ``ids``: ``decode_bytes`` read as UTF-8 with ``errors="replace"``.

        A single token may hold only part of a multi-byte character; bytes that are
        not valid UTF-8 become U+FFFD, exactly like ``tiktoken``'s ``decode``.
        Unknown ids raise ``KeyError`` (see ``decode_bytes``).
        """
        ### BEGIN SOLUTION
        return self.decode_bytes(ids).decode("utf-8", errors="replace")
        ### END SOLUTION

    @classmethod
    def from_gpt2_files(cls, encoder_json_path: str | Path, vocab_bpe_path: str | Path) -> BPETokenizer:
        """GPT-2's tokenizer from OpenAI's two files.

        * ``encoder.json``: token text -> id, where the text is written in the
          ``bytes_to_unicode`` alphabet (so ``"Ġthe"`` is the bytes ``b" the"``);
          50257 entries including ``"<|endoftext|>": 50256``.
        * ``vocab.bpe``: a ``#version`` header line, then one merge per line,
          ``"left right"`` in the same alphabet, in rank order (50000 merges).

        Returns ``BPETokenizer(vocab, merges, {"<|endoftext|>": 50256})`` with the
        ids exactly as in ``encoder.json``.
        """
        ### BEGIN SOLUTION
        # Undo the byte -> character table. str.translate maps each stand-in back to
        # chr(byte) in one C-level pass; Latin-1 then turns chr(0..255) into bytes.
        undo = {ord(char): byte for byte, char in bytes_to_unicode().items()}

        def to_bytes(token_text: str) -> bytes:
            return token_text.translate(undo).encode("latin-1")

        encoder = json.loads(Path(encoder_json_path).read_text(encoding="utf-8"))
        specials = {name: index for name, index in encoder.items() if name == ENDOFTEXT}
        vocab = {index: to_bytes(name) for name, index in encoder.items() if name not in specials}
        merges = []
        for line in Path(vocab_bpe_path).read_text(encoding="utf-8").splitlines():
            if line.startswith("#version") or not line.strip():
                continue
            left, right = line.split()
            merges.append((to_bytes(left), to_bytes(right)))
        return cls(vocab, merges, specials)
        ### END SOLUTION


@lru_cache(maxsize=1)
def load_gpt2_tokenizer() -> BPETokenizer:
    """GPT-2's tokenizer from the bundled ``encoder.json``/``vocab.bpe`` (loaded once, cached).

    Built with your ``BPETokenizer.from_gpt2_files``; 50257 tokens,
    ``<|endoftext|>`` = 50256. ``encode(text)`` / ``decode(ids)`` as above.
    """
    from llmkit.data import gpt2_bpe_files

    return BPETokenizer.from_gpt2_files(*gpt2_bpe_files())
