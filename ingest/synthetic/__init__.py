"""Synthetic input for every reader (made-up people): the sample files, scanned sheets and notes
that the demo submits and the tests and benchmarks read. Development only: part of the source
checkout, left out of the wheel (pyproject.toml)."""
