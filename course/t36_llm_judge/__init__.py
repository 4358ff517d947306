"""Topic 36 - Evaluating with an LLM judge: the judge's prompt, robust score parsing, offline scores, aggregation."""

from .judge import (
    NUMBER,
    RESPONSE_KEY,
    JudgeError,
    OfflineJudge,
    OllamaJudge,
    aggregate,
    exact_match,
    judge_prompt,
    judge_responses,
    normalize_answer,
    offline_score,
    parse_score,
    precision_recall,
    reference_answer,
    token_f1,
)

__all__ = ["NUMBER", "RESPONSE_KEY", "JudgeError", "OfflineJudge", "OllamaJudge", "aggregate", "exact_match",
           "judge_prompt", "judge_responses", "normalize_answer", "offline_score", "parse_score", "precision_recall",
           "reference_answer", "token_f1"]
