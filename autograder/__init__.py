"""Instructor-side grading (not part of the student release)."""
