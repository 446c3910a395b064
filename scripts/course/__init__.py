"""Shared pieces of the course scripts (render, lint_lessons, release, grade, leaderboard, cluster).
Files and errors come from kl.io (scripts/kl/: the course imports it, never the reverse);
CourseError is kl.io's UserError, so either name catches it."""
from kl.io import ROOT, die, read_text, run_main, write_atomic  # noqa: F401  (the course's API)
from kl.io import UserError as CourseError  # noqa: F401

__all__ = ["ROOT", "CourseError", "die", "read_text", "run_main", "write_atomic"]
