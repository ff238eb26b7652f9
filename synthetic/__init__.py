"""Synthetic data that the tests and the benchmarks share, so neither has to import the other.

Not part of the application: it is not installed with it (pyproject.toml lists the app's packages) and no app module
imports it.
"""
