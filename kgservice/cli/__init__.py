"""The `shield` command (Typer): one module per command group."""
