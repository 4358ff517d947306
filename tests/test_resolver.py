"""The import hook serves each topic from the chosen tree, per topic, and forgets between sessions."""

import sys

import pytest

from llmkit import registry, resolver

T01 = registry.get(1)


def _origin():
    return resolver.load(T01).__file__


def test_course_and_solutions_resolve_to_their_folders():
    with resolver.session("course"):
        assert "/course/t01_tokenizer/" in _origin()
    with resolver.session("solutions"):
        assert "/solutions/t01_tokenizer/" in _origin()
        # submodules follow the package's folder
        assert "/solutions/" in sys.modules["course.t01_tokenizer.tokenizer"].__file__


def test_per_topic_override_and_directory(tmp_path):
    (tmp_path / "t01_tokenizer").mkdir()
    (tmp_path / "t01_tokenizer" / "__init__.py").write_text("MARK = 'mine'\n")
    with resolver.session(f"solutions,1={tmp_path}"):
        assert resolver.load(T01).MARK == "mine"
    with resolver.session(f"{tmp_path},1-1=solutions"):
        assert "/solutions/" in _origin()


def test_session_restores_previous_modules():
    with resolver.session("solutions"):
        ref = resolver.load(T01)
        with resolver.session("course"):
            assert resolver.load(T01) is not ref
        assert resolver.load(T01) is ref
        import course
        assert course.t01_tokenizer is ref


def test_missing_topic_folder_is_a_clear_error(tmp_path):
    with resolver.session(str(tmp_path)):
        with pytest.raises(ModuleNotFoundError, match="t01 not found"):
            resolver.load(T01)


@pytest.mark.parametrize("spec", ["nowhere/at/all", "course,x=solutions"])
def test_bad_spec_is_a_clear_error(spec):
    with pytest.raises(ValueError, match="LLMKIT_IMPL"):
        resolver.Choice(spec)
