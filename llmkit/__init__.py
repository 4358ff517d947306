"""llmkit: the course kit's machinery - topic registry, import resolver, stub
generator, checks, snapshots, the learner's board and the command line."""

__version__ = "0.1.0"
