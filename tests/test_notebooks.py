"""Every topic notebook runs top to bottom on the reference implementation."""

import nbformat
import pytest
from nbclient import NotebookClient

from llmkit import registry, resolver
from tests.helpers import TOPIC_IDS, TOPICS


@pytest.mark.parametrize("topic", TOPICS, ids=TOPIC_IDS)
def test_notebook_runs_on_reference(topic, monkeypatch, tmp_path):
    monkeypatch.setenv(resolver.ENV_VAR, "solutions")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    folder = registry.COURSE_DIR / topic.package
    notebook = nbformat.read(folder / "notebook.ipynb", as_version=4)
    client = NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}})
    client.execute()
    errors = [o for cell in notebook.cells if cell.cell_type == "code"
              for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
