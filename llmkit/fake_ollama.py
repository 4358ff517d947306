"""A stand-in Ollama server on the loopback interface, for tests and notebooks.

Ollama (https://ollama.com) serves local models behind a small REST API; topic
36's ``OllamaJudge`` talks to it through the official ``ollama`` Python client.
Ollama itself cannot run everywhere (no GPU, no model download, no network), so
:class:`FakeOllama` speaks the part of the API the client's ``Client.chat``
uses, on ``127.0.0.1`` and a free port, and can misbehave on purpose::

    with FakeOllama(reply="Score: 85") as server:
        judge = OllamaJudge(host=server.url, timeout=2.0)
        judge.score(entry, response)        # -> 85
        server.requests[-1]["body"]         # what the client sent

What it answers (as Ollama does):

* ``GET /`` -> ``200 Ollama is running``; ``GET /api/version`` -> ``{"version": ...}``;
* ``POST /api/chat`` with ``{"model", "messages", "stream", "options", ...}``: with
  ``"stream": false`` one JSON object ``{"model", "created_at", "message": {"role":
  "assistant", "content"}, "done": true, "done_reason": "stop", durations and
  counts}``; when streaming (Ollama's default) the same as newline-delimited JSON
  chunks, the last with ``"done": true``; a model it does not have -> ``404
  {"error": "model \\"x\\" not found, try pulling it first"}``;
* anything else -> ``404 404 page not found``.

Modes (``mode=``): ``"ok"`` answers; ``"hang"`` waits ``hang_s`` seconds before
answering (longer than a client's timeout); ``"error"`` -> HTTP 500 with an
``{"error": ...}`` body; ``"missing"`` -> 404, no model is pulled; ``"junk"`` ->
200 with a body that is not JSON; ``"broken"`` -> 200 JSON without a
``message``; ``"drop"`` closes the connection without a word. :func:`stopped_url`
gives the address of a server that is not running.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODES = ("ok", "hang", "error", "missing", "junk", "broken", "drop")
VERSION = "0.0.0-llmkit-fake"


def stopped_url() -> str:
    """The URL of a loopback port where no server listens (it was free a moment ago)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class FakeOllama:
    """A loopback HTTP server that answers ``POST /api/chat`` like Ollama (see the module docstring).

    ``reply``: the assistant's text, or a function of the last user message's text
    returning it. ``models``: the model names it "has pulled" (``None``: any).
    ``requests`` lists every request received: ``{"method", "path", "body"}`` with
    the body parsed as JSON where it is JSON. Use it as a context manager, or
    call :meth:`start` and :meth:`stop`.
    """

    def __init__(self, mode: str = "ok", reply: str | Callable[[str], str] = "Score: 80",
                 models: Iterable[str] | None = ("llama3.2",), hang_s: float = 10.0):
        if mode not in MODES:
            raise ValueError(f"FakeOllama: unknown mode {mode!r}; one of {', '.join(MODES)}")
        self.mode, self.reply, self.hang_s = mode, reply, hang_s
        self.models = None if models is None else set(models)
        self.requests: list[dict[str, Any]] = []
        self._wake = threading.Event()  # ends a hanging answer at once when the server stops
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._url: str | None = None

    # -------------------------------------------------------------------- lifecycle

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (still the same after :meth:`stop`, to compare with error messages)."""
        if self._url is None:
            raise RuntimeError("FakeOllama: not started")
        return self._url

    def start(self) -> FakeOllama:
        fake = self

        class Handler(_Handler):
            server_state = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        host, port = self._server.server_address[:2]
        self._url = f"http://{host!s}:{port}"
        # a short poll interval: stop() returns within 0.05 s instead of serve_forever's default 0.5 s
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-ollama", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._wake.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = None

    def __enter__(self) -> FakeOllama:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -------------------------------------------------------------------- answers

    def answer_text(self, messages: list[dict[str, Any]]) -> str:
        prompt = next((m.get("content") or "" for m in reversed(messages) if m.get("role") == "user"), "")
        return self.reply(prompt) if callable(self.reply) else self.reply


class _Handler(BaseHTTPRequestHandler):
    server_state: FakeOllama
    server_version = "fake-ollama"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    # -------------------------------------------------------------------- plumbing

    def _send(self, status: int, body: bytes, content_type: str = "application/json; charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:  # the client gave up (a timeout): nobody to answer
            pass

    def _json(self, status: int, value: Any) -> None:
        self._send(status, json.dumps(value).encode())

    def _record(self, body: Any) -> None:
        self.server_state.requests.append({"method": self.command, "path": self.path, "body": body})

    # -------------------------------------------------------------------- routes

    def do_GET(self) -> None:
        self._record(None)
        if self.path == "/":
            self._send(200, b"Ollama is running", "text/plain; charset=utf-8")
        elif self.path == "/api/version":
            self._json(200, {"version": VERSION})
        else:
            self._send(404, b"404 page not found", "text/plain")

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            body = raw.decode("utf-8", "replace")
        self._record(body)
        if self.path != "/api/chat":
            self._send(404, b"404 page not found", "text/plain")
            return
        if not isinstance(body, dict):
            self._json(400, {"error": "invalid request body"})
            return
        self._chat(body)

    def _chat(self, body: dict[str, Any]) -> None:
        state, model = self.server_state, str(body.get("model") or "")
        mode = state.mode
        if mode == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if mode == "hang":
            state._wake.wait(state.hang_s)
        if not model:
            self._json(400, {"error": "model is required"})
        elif mode == "missing" or (state.models is not None and model not in state.models):
            self._json(404, {"error": f'model "{model}" not found, try pulling it first'})
        elif mode == "error":
            self._json(500, {"error": "llama runner process has terminated: exit status 2"})
        elif mode == "junk":
            self._send(200, b"<html><body>502 Bad Gateway</body></html>", "text/html")
        elif mode == "broken":
            self._json(200, {"model": model, "created_at": _now(), "done": True})
        else:
            self._answer(model, state.answer_text(body.get("messages") or []), body.get("stream", True))

    def _answer(self, model: str, text: str, stream: bool) -> None:
        started = time.perf_counter_ns()
        final = {"model": model, "created_at": _now(), "message": {"role": "assistant", "content": text},
                 "done_reason": "stop", "done": True, "total_duration": 0, "load_duration": 0,
                 "prompt_eval_count": 1, "prompt_eval_duration": 0, "eval_count": max(1, len(text.split())),
                 "eval_duration": 0}
        final["total_duration"] = final["eval_duration"] = time.perf_counter_ns() - started
        if not stream:
            self._json(200, final)
            return
        # streaming (Ollama's default): the text in a chunk, then a final chunk with the statistics
        chunk = {"model": model, "created_at": final["created_at"],
                 "message": {"role": "assistant", "content": text}, "done": False}
        closing = dict(final, message={"role": "assistant", "content": ""})
        lines = (json.dumps(chunk) + "\n" + json.dumps(closing) + "\n").encode()
        self._send(200, lines, "application/x-ndjson")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
