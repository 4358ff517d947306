"""Topic 36's Ollama judge, driven through the real ``ollama`` client against a loopback stand-in server.

Ollama cannot run here, so ``llmkit.fake_ollama.FakeOllama`` speaks the part of
Ollama's REST API that ``ollama.Client.chat`` uses, and misbehaves on purpose.
These tests prove that the judge talks Ollama's real protocol, and that a
server that is stopped, hangs, fails, misses the model or answers junk gives
one ``JudgeError`` sentence saying what to do, never a traceback.
"""

from __future__ import annotations

import json
import time
import urllib.request

import ollama
import pytest

from llmkit import registry, resolver
from llmkit.fake_ollama import MODES, VERSION, FakeOllama, stopped_url

ENTRY = {"instruction": "Convert the distance to metres.", "input": "3 km", "output": "3000 m"}
RESPONSE = "3000 metres"


@pytest.fixture(scope="module")
def t36():
    with resolver.session("solutions"):
        return resolver.load(registry.get(36))


def judge_error(t36, judge, entry=ENTRY, response=RESPONSE):
    """The JudgeError ``judge.score`` raises, checked to be one clean sentence (the kit prints just that)."""
    with pytest.raises(t36.JudgeError) as caught:
        judge.score(entry, response)
    error = caught.value
    message = str(error)
    assert message and "\n" not in message and "Traceback" not in message, message
    # raised "from None": no chained httpx / pydantic exception is printed after it
    assert error.__cause__ is None and error.__suppress_context__, message
    return message


def test_a_reply_is_parsed_and_the_request_is_ollamas_chat(t36):
    with FakeOllama(reply="**Score:** 85\n\nIt says metres instead of m.") as server:
        judge = t36.OllamaJudge(model="llama3.2", host=server.url, timeout=5.0)
        assert judge.name == "ollama:llama3.2"
        assert judge.score(ENTRY, RESPONSE) == 85
    (request,) = server.requests
    assert request["method"] == "POST" and request["path"] == "/api/chat"
    body = request["body"]
    assert body["model"] == "llama3.2"
    assert body["stream"] is False
    assert body["messages"] == [{"role": "user", "content": t36.judge_prompt(ENTRY, RESPONSE)}]
    assert body["options"] == {"temperature": 0, "seed": 123}


def test_a_reply_without_a_score_is_none_not_an_error(t36):
    with FakeOllama(reply="I cannot grade this response.") as server:
        assert t36.OllamaJudge(host=server.url, timeout=5.0).score(ENTRY, RESPONSE) is None


def test_judge_responses_through_the_server(t36):
    entries = [dict(ENTRY, model_response=r) for r in ("3000 m", "3 km", "three thousand metres")]

    def grade(prompt: str) -> str:  # a "judge" that reads the prompt it is sent
        response = prompt.split("### Model response:\n", 1)[1].split("\n\n", 1)[0]
        return {"3000 m": "Score: 100", "3 km": "I'd say 20/100.", "three thousand metres": "Hmm."}[response]

    seen = []
    with FakeOllama(reply=grade, models=["judge"]) as server:
        judge = t36.OllamaJudge(model="judge", host=server.url, timeout=5.0)
        scores, summary = t36.judge_responses(entries, judge, on_item=lambda i, s: seen.append((i, s)))
    assert scores == [100, 20, None]
    assert seen == [(0, 100), (1, 20), (2, None)]
    assert summary == {"mean": 60.0, "count": 2, "failed": 1, "fraction_at_least_50": 0.5}


@pytest.mark.parametrize("mode,must_say", [
    ("missing", "ollama pull llama3.2"),
    ("error", "HTTP 500"),
    ("junk", "not Ollama's chat JSON"),
    ("broken", "not Ollama's chat JSON"),
    ("drop", "failed"),
])
def test_a_misbehaving_server_gives_one_clear_sentence(t36, mode, must_say):
    with FakeOllama(mode) as server:
        message = judge_error(t36, t36.OllamaJudge(host=server.url, timeout=5.0))
    assert must_say in message and server.url in message


def test_a_model_that_is_not_pulled(t36):
    with FakeOllama(models=["llama3.2"]) as server:
        message = judge_error(t36, t36.OllamaJudge(model="qwen2.5:0.5b", host=server.url, timeout=5.0))
    assert "ollama pull qwen2.5:0.5b" in message and "--judge-model" in message


def test_a_stopped_server(t36):
    url = stopped_url()
    start = time.perf_counter()
    message = judge_error(t36, t36.OllamaJudge(host=url, timeout=5.0))
    assert "cannot reach" in message and url in message and "ollama serve" in message
    assert time.perf_counter() - start < 5


def test_a_server_that_hangs_past_the_timeout(t36):
    with FakeOllama("hang", hang_s=30) as server:
        start = time.perf_counter()
        message = judge_error(t36, t36.OllamaJudge(host=server.url, timeout=0.5))
        waited = time.perf_counter() - start
    assert "within 0.5 s" in message
    assert waited < 5, f"the client waited {waited:.1f} s: the timeout was not passed to ollama.Client"


def test_an_address_that_is_no_url(t36):
    message = judge_error(t36, t36.OllamaJudge(host="ftp://127.0.0.1:1", timeout=1.0))
    assert "not a usable Ollama address" in message


def test_a_judge_error_stops_judge_responses(t36):
    entries = [dict(ENTRY, model_response=r) for r in ("3000 m", "3 km")]
    with pytest.raises(t36.JudgeError, match="cannot reach"):
        t36.judge_responses(entries, t36.OllamaJudge(host=stopped_url(), timeout=5.0))


def test_the_offline_judge_needs_no_server(t36):
    judge = t36.OfflineJudge()
    assert judge.name == "offline"
    assert judge.score(ENTRY, "3000 M!") == 100
    assert judge.score(ENTRY, "3000 metres") == 50


# ----------------------------------------------------------------------------- the stand-in itself


def test_the_fake_speaks_ollamas_api_to_the_real_client():
    with FakeOllama(reply="Score: 42") as server:
        client = ollama.Client(host=server.url, timeout=5.0)
        reply = client.chat(model="llama3.2", messages=[{"role": "user", "content": "hi"}], stream=False)
        assert reply.message.role == "assistant" and reply.message.content == "Score: 42"
        assert reply.done is True and reply.model == "llama3.2" and reply.created_at
        streamed = list(client.chat(model="llama3.2", messages=[{"role": "user", "content": "hi"}], stream=True))
        assert "".join(part.message.content for part in streamed) == "Score: 42"
        assert [part.done for part in streamed] == [False, True]
        with pytest.raises(ollama.ResponseError) as missing:
            client.chat(model="nope", messages=[{"role": "user", "content": "hi"}])
        assert missing.value.status_code == 404 and "not found" in missing.value.error
        with urllib.request.urlopen(server.url + "/", timeout=5) as page:
            assert page.read() == b"Ollama is running"
        with urllib.request.urlopen(server.url + "/api/version", timeout=5) as page:
            assert json.loads(page.read()) == {"version": VERSION}


def test_the_fake_refuses_an_unknown_mode():
    with pytest.raises(ValueError, match="unknown mode"):
        FakeOllama("sleepy")
    assert "hang" in MODES
