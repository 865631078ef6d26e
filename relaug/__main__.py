"""`python -m relaug` runs the CLI."""

from relaug.cli import app

if __name__ == "__main__":  # worker processes re-import this module under spawn
    app()
