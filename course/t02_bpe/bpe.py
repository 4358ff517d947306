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
    raise NotImplementedError('t02 bytes_to_unicode: not implemented yet - write it in course/t02_bpe/bpe.py')


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
    raise NotImplementedError('t02 pretokenize_gpt2: not implemented yet - write it in course/t02_bpe/bpe.py')


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
    raise NotImplementedError('t02 get_pair_counts: not implemented yet - write it in course/t02_bpe/bpe.py')


def merge_pair(word: Word, pair: Pair) -> Word:
    """Replace every occurrence of ``pair`` in ``word`` by the joined bytes.

    Scans left to right; occurrences never overlap: ``(a, a, a)`` with pair
    ``(a, a)`` gives ``(aa, a)``, not ``(a, aa)``. A word without the pair comes
    back unchanged (as a tuple).

    >>> merge_pair((b"l", b"o", b"w", b"l", b"o"), (b"l", b"o"))
    (b'lo', b'w', b'lo')
    """
    raise NotImplementedError('t02 merge_pair: not implemented yet - write it in course/t02_bpe/bpe.py')


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
    raise NotImplementedError('t02 train_bpe: not implemented yet - write it in course/t02_bpe/bpe.py')


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
        raise NotImplementedError('t02 BPETokenizer.encode_chunk: not implemented yet - write it in course/t02_bpe/bpe.py')

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
        raise NotImplementedError('t02 BPETokenizer.encode: not implemented yet - write it in course/t02_bpe/bpe.py')

    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        """The bytes of ``ids`` concatenated (special tokens as their UTF-8 text).

        An id not in the vocabulary raises ``KeyError`` whose message names the id.
        """
        raise NotImplementedError('t02 BPETokenizer.decode_bytes: not implemented yet - write it in course/t02_bpe/bpe.py')

    def decode(self, ids: Iterable[int]) -> str:
        """Text of ``ids``: ``decode_bytes`` read as UTF-8 with ``errors="replace"``.

        A single token may hold only part of a multi-byte character; bytes that are
        not valid UTF-8 become U+FFFD, exactly like ``tiktoken``'s ``decode``.
        Unknown ids raise ``KeyError`` (see ``decode_bytes``).
        """
        raise NotImplementedError('t02 BPETokenizer.decode: not implemented yet - write it in course/t02_bpe/bpe.py')

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
        raise NotImplementedError('t02 BPETokenizer.from_gpt2_files: not implemented yet - write it in course/t02_bpe/bpe.py')


@lru_cache(maxsize=1)
def load_gpt2_tokenizer() -> BPETokenizer:
    """GPT-2's tokenizer from the bundled ``encoder.json``/``vocab.bpe`` (loaded once, cached).

    Built with your ``BPETokenizer.from_gpt2_files``; 50257 tokens,
    ``<|endoftext|>`` = 50256. ``encode(text)`` / ``decode(ids)`` as above.
    """
    from llmkit.data import gpt2_bpe_files

    return BPETokenizer.from_gpt2_files(*gpt2_bpe_files())
