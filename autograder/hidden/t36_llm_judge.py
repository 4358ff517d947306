"""Hidden checks for topic 36 - evaluating with an LLM judge (fresh seed every run).

Every shape of judge reply, every kind of record and every edge of the overlap
scores and of the summary is built on every run, around fresh random numbers
and words: no draw decides whether an edge case is seen.
"""

from __future__ import annotations

from checks.t36_llm_judge import (
    aggregate_probe,
    explicit_replies,
    judging_errors_probe,
    judging_probe,
    last_number_replies,
    never_scores_replies,
    offline_probe,
    overlap_probe,
    parse_errors,
    parse_probe,
    prompt_probe,
)
from llmkit.checks import check
from llmkit.probing import error_case

NOT_BEHAVIOUR = {
    "In `judge.py` (it imports": "where the code goes and what it builds on",
    "The wording around the parts is yours.": "a freedom, not a behaviour",
    "`entries` are topic 35's records": "where the input comes from",
    "`judge` is anything with a method": "the interface every check's judge has",
    "`scores` is a list of judge scores": "what the input is",
    "Given: the pattern `NUMBER`": "code handed out, not written by the learner",
    "The first of these rules that applies decides.": "introduces the rules (1)-(4), each checked on its own",
}

SCORE_IS = "returns the score in a judge's reply, an `int` from 0 to 100, or `None` when there is none."
NUMBERS_ARE = ["A number is what the given pattern `NUMBER` matches",
               "Only a whole number from 0 to 100 without a sign can be a score"]


@check("judge_prompt holds format_input(entry), the reference output and the response in this order and "
       "verbatim, for records with, without, with an empty and with a blank input, responses with braces, % and "
       "backslashes, an empty response and a perfect one; then 0 and 100; its argument errors",
       promises=["returns the prompt a judge model reads, as a `str`.",
                 "It holds, in this order and each exactly as given, `format_input(entry)`",
                 "After the response it asks for one integer score from 0 to 100",
                 "Braces, `%s`, backslashes and newlines in a response are text like any other.",
                 "`response` not a `str` raises `TypeError` naming its type;",
                 "an entry without `\"output\"` raises `ValueError` naming `output`",
                 "The entry is not changed"])
def prompt_parts(t, rng):
    return prompt_probe(t, rng)


@check("parse_score with `score: N` (any case, Markdown bold, several of them), `N/100` and `N out of 100` among "
       "other numbers before and after: the explicit score wins, the last one of its kind, `score:` first",
       promises=[SCORE_IS,
                 "(1) When the reply has `score: N`",
                 "(2) Otherwise, when the reply has `N/100` or `N out of 100`"])
def explicit_scores(t, rng):
    return parse_probe(t, explicit_replies(rng))


@check("parse_score without a label: the last number that can be a score, never the first one; digits inside "
       "words are no number; a reply that is not a str",
       promises=[SCORE_IS, *NUMBERS_ARE,
                 "digits inside a word (`gpt2`, `3rd`) are no number.",
                 "(3) Otherwise the result is the last number of the reply that can be a score.",
                 "It never takes the first number it sees",
                 "`reply` not a `str` raises `TypeError` naming its type"])
def last_number(t, rng):
    return {"scores": parse_probe(t, last_number_replies(rng)), "errors": parse_errors(t)}


@check("parse_score with negative, decimal and out-of-range numbers (alone, labelled, as N/100, next to a real "
       "score), the boundaries 0, 100 and 101, and replies without any number",
       promises=[SCORE_IS, *NUMBERS_ARE,
                 "the result is `N` if it can be a score, else `None`.",
                 "the last such `N` decides in the same way.",
                 "(4) With no such number, the result is `None`."])
def never_scores(t, rng):
    return parse_probe(t, never_scores_replies(rng))


@check("normalize_answer, exact_match, precision_recall and token_f1 on messy pairs: case, ASCII and Unicode "
       "punctuation inside words, runs of whitespace, precision != recall, repeated words, empty texts",
       promises=["lowercases `text` with `str.lower()`, deletes every punctuation character",
                 "`True` when the two texts are equal after `normalize_answer`, else `False`",
                 "returns `(precision, recall)`, two Python floats.",
                 "The tokens of a text are the words of its `normalize_answer`, split at the spaces.",
                 "The overlap counts each token as many times as it occurs in both texts",
                 "`precision = overlap / (number of response tokens)`",
                 "When a text has no tokens, the result is `(1.0, 1.0)` if neither text has any, else `(0.0, 0.0)`",
                 "returns the harmonic mean `2 * P * R / (P + R)`",
                 "`0.0` when `P + R == 0`"])
def overlap_scores(t, rng):
    return overlap_probe(t, rng)


@check("normalize_answer, exact_match, precision_recall and token_f1 refuse a text that is not a str",
       promises=["`text` not a `str` raises `TypeError` naming its type"])
def overlap_errors(t, rng):
    text = "a reference answer"
    return [error_case("normalize_answer(None)", t.normalize_answer, None, names=["NoneType"]),
            error_case("normalize_answer(12)", t.normalize_answer, 12, names=["int"]),
            error_case("exact_match(['a'], text)", t.exact_match, ["a"], text, names=["list"]),
            error_case("precision_recall(text, None)", t.precision_recall, text, None, names=["NoneType"]),
            error_case("token_f1(b'a', text)", t.token_f1, b"a", text, names=["bytes"]),
            error_case("normalize_answer('')", t.normalize_answer, "")]


@check("offline_score on records whose overlap is known: exact matches after normalization (100), partial "
       "overlaps (round(100 * F1)), nothing in common (0); an int each time; a record without an output",
       promises=["returns `100` when `exact_match(response, entry[\"output\"])`",
                 "An entry without `\"output\"` raises `ValueError` naming `output`"])
def offline_scores(t, rng):
    return offline_probe(t, rng)


@check("aggregate: mean, count, failed and fraction_at_least_50 with failures among the scores, the boundary 50, "
       "all failed, an empty list; a bool, a float, 150, -1 or a str in the list",
       promises=["Returns a dict with exactly the keys `\"mean\"`, `\"count\"`, `\"failed\"` and "
                 "`\"fraction_at_least_50\"`",
                 "A `None` is never counted as a 0.",
                 "With no score other than `None` (or an empty list), `mean` and `fraction_at_least_50` are "
                 "`float(\"nan\")`.",
                 "An item that is neither `None` nor an `int` from 0 to 100",
                 "The list is not changed"])
def aggregate_summary(t, rng):
    return aggregate_probe(t, rng)


@check("judge_responses with a judge answering from a script (None among its answers), the offline judge and "
       "the Ollama judge on a fake client: scores, summary, calls in order, on_item; entries unchanged",
       promises=["Then it scores each entry once, in order, with `judge.score(entry, entry[\"model_response\"])`",
                 "It returns `(scores, aggregate(scores))`: the list of scores and its summary.",
                 "The entries are not changed"])
def judging_many(t, rng):
    return judging_probe(t, rng)


@check("judge_responses with an entry whose model_response is missing, None or an int (ValueError naming its "
       "index, nothing judged), and with a judge raising JudgeError midway (propagates, nothing judged after)",
       promises=["First it checks every entry:",
                 "An exception from the judge (a `JudgeError` when the server is down) propagates at once"])
def judging_errors(t, rng):
    return judging_errors_probe(t, rng)
