"""Reference implementations (instructors only). Stubs in ``course/`` are generated from these."""
