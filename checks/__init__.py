"""Public checks, one module per topic, compared against snapshots in ``checks/snapshots``."""
