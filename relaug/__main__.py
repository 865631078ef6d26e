"""`python -m relaug` runs the CLI."""

from relaug.cli import app

app()
