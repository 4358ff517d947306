"""pytest options shared by public checks, hidden checks and the kit's own tests."""

import os

from llmkit import resolver


def pytest_addoption(parser):
    parser.addoption(
        "--impl",
        default=os.environ.get(resolver.ENV_VAR, "course"),
        help="whose code answers `import course.tNN`: course (yours, default), solutions, "
        "a directory of topic folders, or a mix such as 'course,1-3=solutions'",
    )


def pytest_configure(config):
    spec = config.getoption("--impl")
    os.environ[resolver.ENV_VAR] = spec  # so subprocesses (notebooks) see the same choice
    resolver.install(spec)
