"""Planted bugs, one module per topic: each must make at least one hidden check fail."""
