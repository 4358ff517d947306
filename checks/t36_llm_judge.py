"""Public checks for topic 36 - evaluating with an LLM judge.

The helpers here are reused by the hidden checks of this topic: random Alpaca
records and responses, judge replies built from templates around random numbers
(every tricky shape of a reply: labels, ``N/100``, several numbers, negative,
decimal and out-of-range numbers, digits inside words), text pairs whose token
overlap is known by construction, and judges that score from a script or
through a fake ``ollama`` client - no server is needed.
"""

from __future__ import annotations

import copy
import importlib
import re
from typing import Any

from llmkit.checks import check
from llmkit.probing import Rng, error_case
from llmkit.values import Mismatch

T31 = "course.t31_instruction_data"
# a number as parse_score reads one (the README's definition), to find "0" and "100" in a prompt
NUMBER_RE = r"(?<![\w.])-?\d+(?:\.\d+)?(?!\w|\.\d)"

# lowercase words without digits or punctuation: their normalized form is themselves
WORDS = ("apple", "river", "stone", "cloud", "green", "quick", "seven", "table", "north", "piano", "lemon",
         "tiger", "paper", "silver", "window", "garden", "orange", "planet", "rocket", "violet", "yellow",
         "basket", "castle", "dragon", "forest", "island", "jacket", "kitten", "ladder", "marble", "needle",
         "pepper", "saddle", "tunnel", "velvet", "wander", "zipper", "anchor", "bridge", "candle")


def words(rng: Rng, n: int, pool=WORDS) -> list[str]:
    return [rng.choice(pool) for _ in range(n)]


def distinct_words(rng: Rng, n: int) -> list[str]:
    return rng.sample(WORDS, n)


def sentence(rng: Rng, low: int = 2, high: int = 6) -> str:
    return " ".join(words(rng, rng.integer(low, high)))


def numbers(rng: Rng, k: int, low: int = 1, high: int = 99) -> list[int]:
    """``k`` different integers in ``[low, high]``: a parser that picks the wrong one always gets another value."""
    return rng.sample(range(low, high + 1), k)


# ----------------------------------------------------------------------------- records and prompts


def random_entry(rng: Rng, kind: str | None = None) -> dict[str, Any]:
    """An Alpaca record; ``kind``: ``"input"``, ``"empty input"``, ``"no input key"``, ``"blank input"``."""
    kind = kind or rng.choice(["input", "empty input", "no input key"])
    entry = {"instruction": sentence(rng).capitalize() + rng.choice([".", "?", ":"])}
    if kind == "input":
        entry["input"] = sentence(rng, 1, 4)
    elif kind == "empty input":
        entry["input"] = ""
    elif kind == "blank input":
        entry["input"] = " \n "
    entry["output"] = sentence(rng, 1, 5)
    return entry


TRICKY_TEXT = ("{response}", "{0} and {}", "100%s done %d", "a \\n backslash", "line one\nline two",
               "### Response:\nnested", "  padded with spaces \n")


def random_response(rng: Rng, entry: dict[str, Any]) -> str:
    """A model response: plain words, the reference itself, empty, or text a careless template would mangle."""
    kind = rng.choice(["words", "same", "tricky", "empty"])
    if kind == "same":
        return entry["output"]
    if kind == "tricky":
        return f"{rng.choice(TRICKY_TEXT)} {sentence(rng, 1, 3)}"
    return "" if kind == "empty" else sentence(rng, 1, 6)


def prompt_cases(rng: Rng) -> list[tuple[dict[str, Any], str]]:
    """Every kind of record on every run, each with a response of every kind."""
    cases = []
    for kind in ("input", "empty input", "no input key", "blank input"):
        entry = random_entry(rng, kind)
        cases.append((entry, sentence(rng, 1, 6)))
    for text in (*TRICKY_TEXT, ""):
        cases.append((random_entry(rng), text))
    entry = random_entry(rng)
    cases.append((entry, entry["output"]))  # a perfect answer: the reference and the response are equal
    return cases


def in_order(text: str, parts: list[str]) -> int | None:
    """Where the last of ``parts`` ends, if ``text`` holds them one after another (in this order), else ``None``."""
    at = 0
    for part in parts:
        found = text.find(part, at)
        if found < 0:
            return None
        at = found + len(part)
    return at


def prompt_report(t, entry: dict[str, Any], response: str) -> dict[str, Any]:
    """What a judge prompt must hold, as properties (the wording around the parts is the learner's own)."""
    snapshot = copy.deepcopy(entry)
    prompt = t.judge_prompt(entry, response)
    if not isinstance(prompt, str):
        raise Mismatch(f"judge_prompt returned a {type(prompt).__name__}, expected a str")
    task = importlib.import_module(T31).format_input(entry)
    end = in_order(prompt, [task, entry["output"], response])
    tail = prompt[end:] if end is not None else ""
    return {"holds format_input(entry), then entry['output'], then the response": end is not None,
            "names 0 and 100 after the response": {"0", "100"} <= set(re.findall(NUMBER_RE, tail)),
            "entry unchanged": entry == snapshot}


def prompt_probe(t, rng: Rng) -> dict[str, Any]:
    cases = prompt_cases(rng)
    reports = {f"case {i}: {entry!r} / response {response!r}": prompt_report(t, entry, response)
               for i, (entry, response) in enumerate(cases)}
    entry = random_entry(rng)
    no_output = {k: v for k, v in entry.items() if k != "output"}
    errors = [error_case("judge_prompt(entry, None)", t.judge_prompt, entry, None, names=["NoneType"]),
              error_case("judge_prompt(entry, 42)", t.judge_prompt, entry, 42, names=["int"]),
              error_case("judge_prompt(entry, b'bytes')", t.judge_prompt, entry, b"bytes", names=["bytes"]),
              error_case("judge_prompt of an entry without 'output'", t.judge_prompt, no_output, "a response",
                         names=["output"])]
    return {"prompts": reports, "errors": errors}


# ----------------------------------------------------------------------------- judge replies


def explicit_replies(rng: Rng) -> list[str]:
    """Replies that say which number is the score, with other numbers around it."""
    n, m, a, b = numbers(rng, 4)
    w = sentence(rng, 1, 3)
    return [
        f"Score: {n}",
        f"Score: {n}. It misses {a} {w} and {b} steps.",
        f"Step {a} is wrong. Score: {n}. It also misses {b} words.",
        f"score:{n}",
        f"SCORE : {n}",
        f"Final score: {n} (the {w} part is {a} words short)",
        f"**Score:** {n}\n\nThe response misses {a} points.",
        f"**Score: {n}**",
        f"I would rate it {n}/100.",
        f"{n} / 100 - it misses {a} words",
        f"{n} out of 100, as {a} words are missing.",
        f"{n} OUT OF 100",
        f"Score: {n} (a perfect answer would get 100/100).",
        f"Score: {m}. On second thought, score: {n}.",
        f"It gets {m}/100 at first sight, but {n}/100 after a closer look; {a} {w}.",
        f"Score: {n}/100",
        f"Score: {n}%, {a} {w}",
    ]


def last_number_replies(rng: Rng) -> list[str]:
    """Replies without a label: the last number that can be a score wins - never the first one."""
    n, a, b = numbers(rng, 3)
    w = sentence(rng, 1, 3)
    return [
        f"{n}",
        f"  {n}\n",
        f"{n}.",
        f"The answer gets {a} of {b} facts right, so I give it {n}.",
        f"I'd say {a}, no, {b}... let's settle on {n}",
        f"Between {a} and {n}",
        f"{n}%",
        f"Compared with gpt2, I give {n}.",
        f"{n} - better than the 3rd attempt at {w}",
        f"Rating = {n}",
        f"After {a} checks of the {w}: {n}",
    ]


def never_scores_replies(rng: Rng) -> list[str]:
    """Replies whose numbers are negative, decimal or out of range, the boundaries 0 and 100, and no number."""
    n, a = numbers(rng, 2)
    big, bigger = rng.integer(101, 999), rng.integer(1000, 99999)
    d = rng.integer(1, 9)
    w = sentence(rng, 1, 3)
    return [
        "0", "100", "101", "Score: 0", "Score: 100", "Score: 101", "0/100", "100 out of 100",
        f"{big}", f"Score: {big}", f"{bigger}", f"{big}/100", f"{bigger} out of 100",
        f"I'd give {big} if I could, but {n} is fair.",
        f"{n}, not {big}",
        f"-{n}", f"Score: -{n}", f"-{n}/100",
        f"It deserves {n}, not -{a}.",
        f"{n}.{d}", f"Score: {n}.{d}", f"{n}.{d}/100", f"Score: {a}.{d}, about {n}",
        f"About {a}.{d}, so {n}.",
        f"{n} overall, {a}.{d} on {w}",
        "I cannot grade this response.", "", "   ", "N/A", "Score: N/A", "Score: none. It is unrelated.",
        f"The {w} is {rng.choice(['wrong', 'fine', 'incomplete'])}.",
        f"v{n} and x{a}",
    ]


def parse_probe(t, replies: list[str]) -> dict[str, Any]:
    """``{reply: [score, its type's name]}``: ``85`` and ``85.0`` are different answers."""
    out = {}
    for reply in replies:
        score = t.parse_score(reply)
        out[repr(reply)] = [score, type(score).__name__]
    return out


def parse_errors(t) -> list[dict]:
    return [error_case("parse_score(None)", t.parse_score, None, names=["NoneType"]),
            error_case("parse_score(85)", t.parse_score, 85, names=["int"])]


# ----------------------------------------------------------------------------- normalization and overlap

PUNCTUATION = ("!", "?", ".", ",", ";", ":", "'", '"', "(", ")", "-", "[", "]", "/", "$", "&", "#", "*", "_",
               "\u2019", "\u2018", "\u201c", "\u201d", "\u2014", "\u2013", "\u2026", "\u00bf", "\u00a1", "\u00ab")


def decorate(rng: Rng, tokens: list[str]) -> str:
    """``tokens`` as a messy text with the same normalized tokens: other case, punctuation inside and around
    words, runs of mixed whitespace."""
    out = []
    for token in tokens:
        word = rng.choice([token, token.upper(), token.capitalize()])
        if rng.coin(0.4):
            cut = rng.integer(1, len(word) - 1)
            word = word[:cut] + rng.choice(PUNCTUATION) + word[cut:]  # "can't" -> "cant": deleted, not a space
        if rng.coin(0.4):
            word += rng.choice(PUNCTUATION)
        out.append(word)
    gaps = [rng.choice([" ", "  ", "\t", " \n ", "\u00a0"]) for _ in out]
    text = "".join(w + g for w, g in zip(out, gaps)).rstrip()
    return rng.choice(["", " ", "\n", "  \t"]) + text + rng.choice(["", " ", "\n"])


def overlap_pair(rng: Rng, shared: int, only_response: int, only_reference: int, repeats: bool = False
                 ) -> tuple[list[str], list[str]]:
    """Token lists with ``shared`` tokens in common (distinct words; with ``repeats``, one word repeated)."""
    pool = distinct_words(rng, shared + only_response + only_reference)
    common = pool[:shared]
    response = common + pool[shared:shared + only_response]
    reference = common + pool[shared + only_response:]
    if repeats and common:
        # one shared word repeated in both texts, more often in one: the overlap counts it min(count) > 1 times
        word = common[0]
        extra = rng.integer(1, 2)
        response += [word] * (extra + rng.integer(1, 2))
        reference += [word] * extra
    return rng.sample(response, len(response)), rng.sample(reference, len(reference))


def text_pairs(rng: Rng) -> dict[str, tuple[str, str]]:
    """Response/reference pairs for normalization, exact match, precision, recall and F1 - every edge, every run."""
    def messy(tokens):
        return decorate(rng, tokens)

    same = words(rng, rng.integer(1, 5))
    pairs = {
        "equal after normalization": (messy(same), messy(same)),
        "the same words in another order": (messy(list(reversed(same)) + ["extra"]), messy(["extra"] + same)),
        "a longer response (precision < recall)": tuple(map(messy, overlap_pair(rng, 2, 4, 1))),
        "a shorter response (precision > recall)": tuple(map(messy, overlap_pair(rng, 2, 1, 4))),
        "a repeated word (overlap counts it as often as both texts have it)":
            tuple(map(messy, overlap_pair(rng, 2, 1, 1, repeats=True))),
        "nothing in common": tuple(map(messy, overlap_pair(rng, 0, 2, 3))),
        "both empty after normalization": (rng.choice(["", " ", "...", "!?"]), rng.choice(["", "\u2014", " . "])),
        "an empty response": (rng.choice(["", "  ", "?!"]), messy(words(rng, 2))),
        "an empty reference": (messy(words(rng, 2)), rng.choice(["", "\n", "..."])),
        "apostrophes and dashes inside words":
            ("Don\u2019t stop \u2014 it\u2019s well-known!", "dont stop its wellknown"),
        "case only": (" ".join(same).upper(), " ".join(same)),
    }
    return pairs


def overlap_report(t, response: str, reference: str) -> dict[str, Any]:
    return {"normalize_answer": [t.normalize_answer(response), t.normalize_answer(reference)],
            "exact_match": t.exact_match(response, reference),
            "precision_recall": list(t.precision_recall(response, reference)),
            "token_f1": t.token_f1(response, reference)}


def overlap_probe(t, rng: Rng) -> dict[str, Any]:
    return {label: overlap_report(t, a, b) for label, (a, b) in text_pairs(rng).items()}


def offline_cases(rng: Rng) -> list[tuple[dict[str, Any], str]]:
    """Records and responses whose F1 is not a knife edge for ``round`` (100 * F1 is never a half)."""
    cases = []
    shapes = [(3, 0, 0), (0, 2, 3), (1, 1, 1), (2, 3, 1), (2, 1, 3), (3, 2, 0), (1, 0, 3)]
    for shared, only_response, only_reference in shapes:
        while True:
            response, reference = overlap_pair(rng, shared, only_response, only_reference)
            total = len(response) + len(reference)
            # 100 * F1 = 200 * overlap / total: a half exactly when 400 * overlap / total is an odd integer
            if not (400 * shared % total == 0 and 400 * shared // total % 2 == 1):
                break
            only_response += 1
        entry = random_entry(rng)
        entry["output"] = decorate(rng, reference)
        cases.append((entry, decorate(rng, response)))
    entry = random_entry(rng)
    cases.append((entry, entry["output"].upper() + "!"))  # an exact match after normalization
    return cases


def offline_probe(t, rng: Rng) -> dict[str, Any]:
    scores = []
    for entry, response in offline_cases(rng):
        score = t.offline_score(entry, response)
        scores.append([score, type(score).__name__])
    entry = random_entry(rng)
    del entry["output"]
    errors = [error_case("offline_score of an entry without 'output'", t.offline_score, entry, "a response",
                         names=["output"])]
    return {"scores": scores, "errors": errors}


# ----------------------------------------------------------------------------- aggregation


def score_lists(rng: Rng) -> dict[str, list]:
    """Lists of scores with ``None`` among them, the boundary 50 and its neighbour, all failed, empty."""
    mixed = [rng.choice([None, rng.integer(0, 100)]) for _ in range(rng.integer(5, 12))]
    return {
        "mixed": mixed + [None, rng.integer(0, 100)],
        "the boundary: 50 counts as at least 50, 49 does not": [50, 49, None, 50, rng.integer(51, 100)],
        "0 and 100": [0, 100, 0, None],
        "every reply failed": [None] * rng.integer(1, 4),
        "no scores at all": [],
        "one score": [rng.integer(0, 100)],
    }


def aggregate_probe(t, rng: Rng) -> dict[str, Any]:
    out = {}
    for label, scores in score_lists(rng).items():
        kept = list(scores)
        summary = t.aggregate(scores)
        if not isinstance(summary, dict):
            raise Mismatch(f"aggregate returned a {type(summary).__name__}, expected a dict")
        out[label] = {"summary": summary, "types": {k: type(v).__name__ for k, v in summary.items()},
                      "scores unchanged": scores == kept}
    bad_at = rng.integer(0, 3)
    errors = []
    for bad in (True, 7.5, 150, -1, "80"):
        scores = [rng.integer(0, 100) for _ in range(4)]
        scores.insert(bad_at, bad)
        errors.append(error_case(f"aggregate with {bad!r} at position {bad_at}", t.aggregate, scores,
                                 names=[str(bad_at)]))
    out["errors"] = errors
    return out


# ----------------------------------------------------------------------------- judges


class ScriptedJudge:
    """A judge that answers from a script and notes what it was asked; ``fail_at``: raise there instead."""

    name = "scripted"

    def __init__(self, script: list, fail_at: int | None = None, error: type[Exception] = RuntimeError):
        self.script, self.fail_at, self.error = list(script), fail_at, error
        self.calls: list[list] = []

    def score(self, entry, response):
        index = len(self.calls)
        self.calls.append([entry.get("id"), response])
        if index == self.fail_at:
            raise self.error("the judge's server went away")
        return self.script[index % len(self.script)]


class FakeChatClient:
    """Stands in for ``ollama.Client``: ``chat(...)`` returns ``{"message": {"content": reply}}`` from a list."""

    def __init__(self, replies: list[str]):
        self.replies, self.requests = list(replies), []

    def chat(self, model="", messages=None, **kwargs):
        self.requests.append({"model": model, "messages": messages, **kwargs})
        reply = self.replies[(len(self.requests) - 1) % len(self.replies)]
        return {"model": model, "message": {"role": "assistant", "content": reply}, "done": True}


def responded(rng: Rng, n: int) -> list[dict[str, Any]]:
    """``n`` records as topic 35 leaves them: with an ``id`` (for the probe) and a ``"model_response"``."""
    entries = []
    for i in range(n):
        entry = random_entry(rng)
        entry["id"] = i
        entry["model_response"] = random_response(rng, entry)
        entries.append(entry)
    return entries


def judging_probe(t, rng: Rng) -> dict[str, Any]:
    """judge_responses with a scripted judge, the offline judge and the Ollama judge on a fake client."""
    entries = responded(rng, rng.integer(4, 7))
    kept = copy.deepcopy(entries)
    script = [rng.choice([None, rng.integer(0, 100)]) for _ in range(len(entries))]
    judge, seen = ScriptedJudge(script), []
    scores, summary = t.judge_responses(entries, judge, on_item=lambda i, s: seen.append([i, s]))
    out = {"scripted": {"scores": scores, "summary": summary, "judge's calls (id, response)": judge.calls,
                        "on_item calls": seen, "entries unchanged": entries == kept}}
    offline = t.judge_responses(entries, t.OfflineJudge())
    out["offline judge"] = {"scores": offline[0], "summary": offline[1]}
    n = numbers(rng, 2)
    client = FakeChatClient([f"Score: {n[0]}", "I cannot grade this.", f"{n[1]}/100 - close"])
    ollama = t.OllamaJudge(model="judge-model", client=client)
    scores, summary = t.judge_responses(entries, ollama)
    sent = [r["messages"][-1]["content"] if r.get("messages") else None for r in client.requests]
    expected_prompts = [t.judge_prompt(e, e["model_response"]) for e in entries]
    out["ollama judge on a fake client"] = {"scores": scores, "summary": summary,
                                            "one request per entry, with judge_prompt": sent == expected_prompts}
    return out


def judging_errors_probe(t, rng: Rng) -> dict[str, Any]:
    """Entries without a response (nothing judged), and a judge that fails midway (nothing judged after it)."""
    out = []
    for what, broken in (("missing", None), ("None", "none"), ("an int", 42)):
        entries = responded(rng, rng.integer(3, 6))
        bad = rng.integer(1, len(entries) - 1)
        if broken is None:
            del entries[bad]["model_response"]
        else:
            entries[bad]["model_response"] = None if broken == "none" else broken
        judge = ScriptedJudge([50])
        report = error_case(f"entry {bad}'s model_response is {what}", t.judge_responses, entries, judge,
                            names=[str(bad)])
        out.append({"error": report, "entries judged before the error": len(judge.calls)})
    entries = responded(rng, rng.integer(3, 6))
    fail_at = rng.integer(1, len(entries) - 2)
    judge = ScriptedJudge([rng.integer(0, 100)], fail_at=fail_at, error=t.JudgeError)
    report = error_case(f"a judge raising JudgeError at entry {fail_at}", t.judge_responses, entries, judge)
    out.append({"error": report, "entries judged": len(judge.calls)})
    return {"cases": out}


# ----------------------------------------------------------------------------- public checks


@check("judge_prompt holds format_input(entry), the reference output and the response, in this order and "
       "verbatim (braces and % in a response too), then asks for a score from 0 to 100; its argument errors")
def prompt_parts(t, rng):
    return prompt_probe(t, rng)


@check("parse_score: `score: N`, `N/100` and `N out of 100` win; else the LAST number from 0 to 100; negative, "
       "decimal and out-of-range numbers are never scores; no number -> None")
def parsing_replies(t, rng):
    replies = explicit_replies(rng)[:8] + last_number_replies(rng)[:6] + never_scores_replies(rng)
    return {"scores": parse_probe(t, replies), "errors": parse_errors(t)}


@check("normalize_answer, exact_match, precision_recall and token_f1 on messy text pairs (case, punctuation, "
       "whitespace, repeated words, empty texts)")
def overlap_scores(t, rng):
    return overlap_probe(t, rng)


@check("offline_score (100 on an exact match, else round(100 * F1)) and aggregate (None never counts as 0)")
def offline_and_aggregate(t, rng):
    return {"offline_score": offline_probe(t, rng), "aggregate": aggregate_probe(t, rng)}


@check("judge_responses with a scripted judge, the offline judge and the Ollama judge on a fake client; entries "
       "without a response; a judge that fails midway")
def judging_many(t, rng):
    return {"judging": judging_probe(t, rng), "errors": judging_errors_probe(t, rng)}
