"""Helpers and fixtures shared by the test suites (import them, or list them in pytest_plugins)."""
