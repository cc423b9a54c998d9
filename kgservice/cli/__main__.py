"""`python -m kgservice.cli` is the same as `shield`."""

from kgservice.cli.main import app

# Guarded: the checking process is spawned, and spawning re-imports the main module.
if __name__ == "__main__":
    app()
