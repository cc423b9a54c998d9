"""`python -m kgservice.cli` is the same as `shield`."""

from kgservice.cli.main import app

app()
