"""The collective analysis: pure functions from pandas frames to tables and figures.

This package's __init__ imports nothing from Flask so the statistics can be used alone (a notebook, a script);
the secretariat's pages that present them live in analysis.routes, which defines the blueprint.
"""
