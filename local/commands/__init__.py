"""Implementations of `ragline` commands that have a module of their own (cli.py registers them)."""
