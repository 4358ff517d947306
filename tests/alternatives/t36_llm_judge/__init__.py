"""Topic 36, written differently: a scan of every number with its context instead of label patterns, a dict
count for the overlap, str.translate for punctuation, fsum for the mean."""

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
