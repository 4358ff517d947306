"""The kit is consistent: registry, stubs, snapshots, per-topic artifacts."""

import nbformat
import pytest

from llmkit import registry, snapshots, stubgen
from llmkit.checks import hidden_checks, public_checks
from llmkit.notebook import check_cell_source
from tests.helpers import SOLUTIONS, TOPIC_IDS, TOPICS


def test_registry_is_well_formed():
    numbers = [t.number for t in registry.TOPICS]
    assert numbers == list(range(1, 37))
    for topic in registry.TOPICS:
        assert all(p < topic.number for p in topic.prereqs), topic
    assert registry.get("t03") is registry.get(3) is registry.get("03") is registry.get("dataloader")
    assert registry.select(["1-1", "t01"]) == [registry.get(1)]
    with pytest.raises(KeyError):
        registry.get(37)


@pytest.mark.parametrize("topic", TOPICS, ids=TOPIC_IDS)
def test_registry_holes_match_solution_markers(topic):
    assert stubgen.topic_holes(topic) == list(topic.holes)


@pytest.mark.parametrize("topic", TOPICS, ids=TOPIC_IDS)
def test_topic_has_every_artifact(topic):
    course = registry.COURSE_DIR / topic.package
    assert (SOLUTIONS / topic.package / topic.module).is_file()
    assert (course / topic.module).is_file()
    assert (course / "README.md").is_file()
    assert (course / "notebook.ipynb").is_file()
    assert public_checks(topic), "no public checks"
    assert hidden_checks(topic), "no hidden checks"


def test_stubs_are_in_sync_with_solutions():
    stale = stubgen.stale_files(TOPICS, registry.COURSE_DIR)
    assert not stale, f"run `llmkit stubs`: stale {stale}"


@pytest.mark.parametrize("topic", TOPICS, ids=TOPIC_IDS)
def test_snapshots_are_in_sync(topic):
    assert not snapshots.stale(topic), "run `llmkit snapshots`"


@pytest.mark.parametrize("topic", TOPICS, ids=TOPIC_IDS)
def test_stub_messages_name_topic_and_function(topic):
    for name, text in stubgen.render_topic(topic).items():
        for hole in stubgen.find_holes((SOLUTIONS / topic.package / name).read_text(), name):
            assert f"t{topic.code} {hole.qualname}: not implemented yet" in text


@pytest.mark.parametrize("topic", TOPICS, ids=TOPIC_IDS)
def test_notebook_ends_with_the_autograded_check_cell(topic):
    notebook = nbformat.read(registry.COURSE_DIR / topic.package / "notebook.ipynb", as_version=4)
    last = notebook.cells[-1]
    assert last.cell_type == "code" and last.source == check_cell_source(topic)
    grading = last.metadata["nbgrader"]
    assert grading["grade"] and grading["locked"] and grading["points"] == topic.points
    assert grading["grade_id"] == f"t{topic.code}_checks"
