"""The worker: runs one topic's hidden-check *probes* on a learner's code.

Started by the grader as ``python -I -S worker.py request.json`` inside the
sandbox, in a private folder that holds a staged copy of the kit (``kit/``: the
``llmkit`` runtime, public check helpers, and only this topic's hidden probes),
the learner's topic folders (``learner/``) and, in fallback mode, the reference
folders of replaced prerequisites (``reference/``). The real ``solutions/`` is
not reachable from here.

It writes ``result.json``: for each check, the probe's status and its plain
output, JSON-encoded. It never compares anything - the grader does, in its own
process, against reference outputs the worker never sees.
"""

import json
import os
import sys


def main(request_path: str) -> int:
    with open(request_path, encoding="utf-8") as f:
        request = json.load(f)
    # -S skipped site-packages processing (and with it any editable-install hook
    # that could import the reference); add the interpreter's packages explicitly.
    sys.path[:0] = [request["kit"]]
    sys.path += request["site_packages"]

    import torch

    torch.set_num_threads(1)
    from llmkit import registry, resolver
    from llmkit.checks import hidden_checks, run_probes
    from llmkit.values import encode

    resolver.install(request["spec"])
    topic = registry.get(request["topic"])
    outcomes = run_probes(topic, hidden_checks(topic), request["seed"])
    payload = {name: {"status": o.status, "value": encode(o.value), "message": o.message[:2000],
                      "seconds": o.seconds} for name, o in outcomes.items()}
    tmp = request["result"] + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(payload, f)
    os.replace(tmp, request["result"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
