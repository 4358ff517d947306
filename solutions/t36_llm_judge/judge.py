"""Topic 36 - evaluating with an LLM judge.

After instruction finetuning (topic 35) the model writes free text. How good is
it? Two ways to score one response against the record's reference ``output``:

* **Offline, by overlap.** Normalize both texts (lowercase, punctuation gone,
  whitespace collapsed), then ask: are they equal (*exact match*)? How many
  tokens do they share (*token F1*, the harmonic mean of precision and recall
  over the multiset of tokens, as SQuAD scores its answers)? Cheap, exact,
  reproducible, needs no server - but blind to meaning: "the capital is Paris"
  and "Paris" share one token out of four.
* **With a judge model.** Show a larger LLM the instruction, the reference
  answer and the response, and ask for a score from 0 to 100. Ollama serves
  such a model on your own machine behind a small REST API; its official
  Python client speaks that API.

The judge answers in free text, so its reply has to be *parsed*, and replies
are messy: ``"Score: 85"``, ``"**Score:** 85"``, ``"I'd give it 85/100 - it
misses 2 details"``, ``"7.5"``, ``"-5"``, ``"150"``, ``"I cannot grade
this."``. :func:`parse_score` turns a reply into an ``int`` from 0 to 100 or
``None`` with one stated rule, and :func:`aggregate` summarizes a list of
scores in which unparsed replies are counted as *failed* - never as 0 (that
would make a flaky judge look like a bad model).

Given: :class:`OfflineJudge` (the offline scorer behind the judge interface)
and :class:`OllamaJudge` (the official ``ollama`` client, every failure turned
into one :class:`JudgeError` sentence that says what to do). Both have
``.name`` and ``.score(entry, response) -> int | None``, so
:func:`judge_responses` runs either over the records topic 35 produced.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from course.t31_instruction_data import format_input  # your topic 31

RESPONSE_KEY = "model_response"  # where topic 35's generate_responses puts the model's answer


def reference_answer(entry: Mapping[str, Any], caller: str) -> str:
    """``entry["output"]``, the reference answer, checked.

    An ``entry`` that is not a dict -> ``TypeError``; a missing (or ``None``)
    ``"output"`` -> ``ValueError`` naming it; a non-``str`` output -> ``TypeError``.
    """
    if not isinstance(entry, Mapping):
        raise TypeError(f"{caller}: an entry must be a dict, got a {type(entry).__name__}")
    output = entry.get("output")
    if output is None:
        raise ValueError(f"{caller}: the entry has no 'output' field (the reference answer)")
    if not isinstance(output, str):
        raise TypeError(f"{caller}: the entry's 'output' must be a str, got a {type(output).__name__}")
    return output


def _text(value: Any, what: str, caller: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{caller}: {what} must be a str, got a {type(value).__name__}")
    return value


# ----------------------------------------------------------------------------- the judge's prompt


def judge_prompt(entry: Mapping[str, Any], response: str) -> str:
    """The text a judge model reads to score ``response`` to ``entry``.

    It holds, in this order and each exactly as given: ``format_input(entry)``
    (topic 31's prompt - the instruction, and the input when there is one), the
    reference answer ``entry["output"]`` and the model's ``response``; after them
    it asks for one integer score from 0 to 100 and nothing else.

    Errors: ``response`` not a ``str`` -> ``TypeError`` naming its type; the
    entry's ``"output"`` missing -> ``ValueError``, not a ``str`` -> ``TypeError``
    (:func:`reference_answer`); topic 31's errors for the instruction and input.
    """
    ### BEGIN SOLUTION
    _text(response, "response", "judge_prompt")
    reference = reference_answer(entry, "judge_prompt")
    # the judge sees the task exactly as the finetuned model saw it
    task = format_input(entry)
    # concatenation, not str.format: braces in a response are text, never a placeholder
    return ("You are a strict grader. A model was given the task below. Compare its response with the "
            "reference answer.\n\n"
            + task
            + "\n\n### Reference answer:\n" + reference
            + "\n\n### Model response:\n" + response
            + "\n\nScore the model response from 0 (wrong or missing) to 100 (as correct and complete as "
              "the reference answer). Reply with one integer from 0 to 100 and nothing else.")
    ### END SOLUTION


# ----------------------------------------------------------------------------- reading the judge's reply

# What parse_score calls a number: digits, an optional minus sign right before them and an optional decimal
# part right after; not part of a word ("gpt2", "3rd") and not a piece of a longer number ("1.5" is one number,
# never "1" and "5"). Use it inside your own patterns: re.findall(NUMBER, "-5 or 7.5, not gpt2") == ["-5", "7.5"]
NUMBER = r"(?<![\w.])-?\d+(?:\.\d+)?(?!\w|\.\d)"


def parse_score(reply: str) -> int | None:
    """The score in a judge's ``reply``: an ``int`` from 0 to 100, or ``None``.

    A *number* is a run of digits with an optional minus sign right before it
    and an optional decimal part (``.`` and digits) right after it (``-12``,
    ``7.5``, ``100``); digits inside a word (``gpt2``) are not one. Only a whole
    number from 0 to 100 without a sign can be a score: negative numbers,
    decimals and numbers above 100 never are. The rule, first match wins:

    1. ``score: N`` (the word ``score`` in any case, a colon, then a number; spaces
       and ``*`` may stand around the colon, as in ``**Score:** 85``): the LAST
       such ``N`` decides - the score if it can be one, else ``None``;
    2. else ``N/100`` or ``N out of 100`` (spaces around ``/`` allowed): the last
       such ``N`` decides, the same way;
    3. else the LAST number in the reply that can be a score;
    4. else ``None``.

    ``reply`` not a ``str`` -> ``TypeError`` naming its type.
    """
    ### BEGIN SOLUTION
    _text(reply, "reply", "parse_score")

    def as_score(number: str) -> int | None:  # a whole number from 0 to 100, no sign, no decimal part
        if number.startswith("-") or "." in number:
            return None
        return int(number) if 0 <= int(number) <= 100 else None

    labelled = rf"\bscore[\s*]*:[\s*]*({NUMBER})"  # "Score: 85", "**Score:** 85", "score:85"
    out_of_100 = rf"({NUMBER})(?:\s*/\s*|\s+out\s+of\s+)100(?!\w|\.\d)"  # "85/100", "85 out of 100"
    for explicit in (labelled, out_of_100):
        found = re.findall(explicit, reply, flags=re.IGNORECASE)
        if found:  # the judge said which number is the score: trust that one, or nothing
            return as_score(found[-1])
    # no label: the verdict usually comes last ("... misses 2 details, so 60")
    for number in reversed(re.findall(NUMBER, reply)):
        if (score := as_score(number)) is not None:
            return score
    return None
    ### END SOLUTION


# ----------------------------------------------------------------------------- the offline scorer


def normalize_answer(text: str) -> str:
    """``text`` ready to compare: lowercased, punctuation removed, whitespace collapsed.

    In this order: ``str.lower()``; every punctuation character deleted - the
    ASCII ones in ``string.punctuation`` and every character whose Unicode
    category starts with ``P`` (curly quotes, dashes, ``…``); every run of
    whitespace becomes one space; no whitespace at either end. ``"  The
    Cat's   hat!"`` -> ``"the cats hat"``. Not a ``str`` -> ``TypeError``.
    """
    ### BEGIN SOLUTION
    _text(text, "text", "normalize_answer")
    kept = "".join(c for c in text.lower()
                   if c not in string.punctuation and not unicodedata.category(c).startswith("P"))
    return " ".join(kept.split())
    ### END SOLUTION


def exact_match(response: str, reference: str) -> bool:
    """Do the two texts agree after :func:`normalize_answer`?"""
    ### BEGIN SOLUTION
    return normalize_answer(response) == normalize_answer(reference)
    ### END SOLUTION


def precision_recall(response: str, reference: str) -> tuple[float, float]:
    """Token precision and recall of ``response`` against ``reference``, as Python floats.

    Tokens are the words of :func:`normalize_answer`'s result (split at spaces).
    The overlap counts every token as often as it appears in *both* texts (the
    smaller of its two counts: a multiset intersection). ``precision = overlap /
    (tokens of the response)`` - how much of what was said is right; ``recall =
    overlap / (tokens of the reference)`` - how much of the answer was said.
    When either text has no tokens: ``(1.0, 1.0)`` if both have none, else
    ``(0.0, 0.0)``.
    """
    ### BEGIN SOLUTION
    said, wanted = normalize_answer(response).split(), normalize_answer(reference).split()
    if not said or not wanted:
        both_empty = float(not said and not wanted)
        return both_empty, both_empty
    overlap = sum((Counter(said) & Counter(wanted)).values())  # "&" keeps the smaller count
    return overlap / len(said), overlap / len(wanted)
    ### END SOLUTION


def token_f1(response: str, reference: str) -> float:
    """The harmonic mean of :func:`precision_recall`: ``2 P R / (P + R)``, ``0.0`` when ``P + R = 0``."""
    ### BEGIN SOLUTION
    precision, recall = precision_recall(response, reference)
    if precision + recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)
    ### END SOLUTION


def offline_score(entry: Mapping[str, Any], response: str) -> int:
    """A judge-like score from 0 to 100 without a judge model.

    ``100`` when ``exact_match(response, entry["output"])``, else
    ``round(100 * token_f1(response, entry["output"]))`` (Python's ``round``),
    an ``int``. The reference answer comes from :func:`reference_answer` (its
    errors); a non-``str`` response -> ``TypeError``.
    """
    ### BEGIN SOLUTION
    reference = reference_answer(entry, "offline_score")
    if exact_match(response, reference):
        return 100
    return round(100 * token_f1(response, reference))
    ### END SOLUTION


# ----------------------------------------------------------------------------- many scores


def aggregate(scores: Sequence[int | None]) -> dict[str, Any]:
    """Summarize judge scores, where ``None`` marks a reply that could not be parsed.

    Returns a dict with exactly these keys: ``"mean"`` - the mean of the parsed
    scores (a float); ``"count"`` - how many scores were parsed; ``"failed"`` -
    how many are ``None``; ``"fraction_at_least_50"`` - the share of the parsed
    scores that are ``>= 50`` (a float from 0 to 1). With no parsed score, the
    mean and the fraction are ``float("nan")``. A failed reply is never counted as
    a 0. An item that is neither ``None`` nor an ``int`` from 0 to 100 (a bool, a
    float, 150) -> ``ValueError`` naming its position.
    """
    ### BEGIN SOLUTION
    parsed = []
    for i, score in enumerate(scores):
        if score is None:
            continue
        if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 100:
            raise ValueError(f"aggregate: scores[{i}] = {score!r} is not a score (None or an int from 0 to 100)")
        parsed.append(score)
    failed = len(scores) - len(parsed)
    if not parsed:
        return {"mean": float("nan"), "count": 0, "failed": failed, "fraction_at_least_50": float("nan")}
    return {"mean": sum(parsed) / len(parsed), "count": len(parsed), "failed": failed,
            "fraction_at_least_50": sum(s >= 50 for s in parsed) / len(parsed)}
    ### END SOLUTION


# ----------------------------------------------------------------------------- judges


class JudgeError(RuntimeError):
    """A judge could not score at all (no server, no model, no answer): one sentence that says what to do."""


class OfflineJudge:
    """The offline scorer (:func:`offline_score`) behind the judge interface: no server, always available."""

    name = "offline"

    def score(self, entry: Mapping[str, Any], response: str) -> int:
        return offline_score(entry, response)


DEFAULT_HOST = "http://localhost:11434"  # where `ollama serve` listens unless told otherwise


class OllamaJudge:
    """A judge model served by Ollama (https://ollama.com), through the official ``ollama`` client.

    ``score(entry, response)`` sends :func:`judge_prompt` as one user message to
    ``POST {host}/api/chat`` (no streaming; ``temperature`` 0 and a fixed ``seed``,
    so the same question gets the same answer) and returns
    :func:`parse_score` of the reply: ``None`` when the judge answered but gave no
    score. Everything that stops the judge from answering - no server at
    ``host``, a model that is not pulled, no answer within ``timeout`` seconds,
    an HTTP error, a reply that is not Ollama's JSON - raises :class:`JudgeError`
    with one sentence saying what to do.

    ``client``: any object with the ``ollama.Client.chat`` method (tests hand in a
    fake); by default ``ollama.Client(host=host, timeout=timeout)``, made at the
    first call.
    """

    def __init__(self, model: str = "llama3.2", host: str = DEFAULT_HOST, timeout: float = 60.0,
                 seed: int = 123, client: Any = None):
        self.model, self.host, self.timeout, self.seed = model, host or DEFAULT_HOST, timeout, seed
        self.name = f"ollama:{model}"
        self._client = client

    def client(self) -> Any:
        if self._client is None:
            try:
                import ollama  # imported here: the offline judge and the checks never need it
            except ImportError:
                raise JudgeError("the Ollama judge needs the ollama package: pip install ollama") from None
            try:
                self._client = ollama.Client(host=self.host, timeout=self.timeout)
            except Exception as exc:
                raise JudgeError(f"{self.host!r} is not a usable Ollama address ({type(exc).__name__}): give "
                                 f"one like {DEFAULT_HOST}") from None
        return self._client

    def ask(self, prompt: str) -> str:
        """The judge model's reply to ``prompt`` (its text), or :class:`JudgeError`."""
        client = self.client()
        try:
            reply = client.chat(model=self.model, messages=[{"role": "user", "content": prompt}], stream=False,
                                options={"temperature": 0, "seed": self.seed})
            content = reply["message"]["content"]
        except Exception as exc:
            raise JudgeError(self.explain(exc)) from None
        return content if isinstance(content, str) else ""

    def explain(self, exc: BaseException) -> str:
        """One sentence for what went wrong talking to the server, and what to do about it."""
        where = f"the Ollama server at {self.host}"
        status = getattr(exc, "status_code", None)
        kind = type(exc).__name__
        if isinstance(exc, ConnectionError):  # the client's own ConnectionError: nothing listens there
            return (f"cannot reach {where}: start it with `ollama serve` (install it from https://ollama.com/download) "
                    f"or give the address of a running one (--ollama-host)")
        if kind in ("UnsupportedProtocol", "InvalidURL"):
            return f"{self.host!r} is not a usable Ollama address: give one like {DEFAULT_HOST}"
        if status == 404:
            return (f"{where} has no model {self.model!r}: run `ollama pull {self.model}` first, or pick a pulled "
                    f"one with --judge-model (see `ollama list`)")
        if "Timeout" in kind:
            return (f"{where} gave no answer within {self.timeout:g} s: the model may still be loading or be too "
                    f"slow for this machine - try again, allow a longer timeout, or pick a smaller model")
        if isinstance(status, int) and status > 0:
            error = " ".join(str(getattr(exc, "error", exc)).split())[:120]
            return (f"{where} answered HTTP {status} ({error}): check the server's log, or restart it with "
                    f"`ollama serve`")
        if isinstance(exc, (ValueError, KeyError, TypeError)):  # not JSON, or JSON without a message
            return (f"{where} sent a reply that is not Ollama's chat JSON ({kind}): check that {self.host} is an "
                    f"Ollama server and that the ollama package is up to date")
        return f"talking to {where} failed ({kind}): check that the server is running and reachable"

    def score(self, entry: Mapping[str, Any], response: str) -> int | None:
        return parse_score(self.ask(judge_prompt(entry, response)))


# ----------------------------------------------------------------------------- judging many responses


def judge_responses(entries: Sequence[Mapping[str, Any]], judge: Any,
                    on_item: Callable[[int, int | None], None] | None = None
                    ) -> tuple[list[int | None], dict[str, Any]]:
    """Score every entry's ``"model_response"`` with ``judge``; return ``(scores, aggregate(scores))``.

    ``entries`` are topic 35's records (each with ``"model_response"``); ``judge``
    is anything with ``.score(entry, response) -> int | None`` (:class:`OfflineJudge`,
    :class:`OllamaJudge`). First every entry is checked: one without a ``str``
    under ``"model_response"`` -> ``ValueError`` naming its index, before any
    entry is judged. Then, in order, ``scores[i] = judge.score(entries[i],
    entries[i]["model_response"])``, each entry judged once, and ``on_item(i,
    scores[i])`` after each when given. An error from the judge (a
    :class:`JudgeError`) propagates at once. The entries are not changed.
    """
    ### BEGIN SOLUTION
    for i, entry in enumerate(entries):
        # check them all first: a typo in the 90th record must not cost 89 calls to a slow judge
        if not isinstance(entry, Mapping) or not isinstance(entry.get(RESPONSE_KEY), str):
            raise ValueError(f"judge_responses: entry {i} has no {RESPONSE_KEY!r} text to judge "
                             f"(run topic 35's generate_responses first)")
    scores = []
    for i, entry in enumerate(entries):
        score = judge.score(entry, entry[RESPONSE_KEY])
        scores.append(score)
        if on_item is not None:
            on_item(i, score)
    return scores, aggregate(scores)
    ### END SOLUTION
