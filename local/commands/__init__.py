"""Implementations of `ragline` sub-commands that are bigger than a few lines (cli.py registers them)."""
