"""The test suite. It runs from the source checkout and reads its files (samples, compose.yaml)."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
