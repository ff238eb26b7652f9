"""The collective analysis: pure functions from pandas frames to tables, figures and files.

analysis.loader reads a round from the database into frames (analysis.frames); everything from there on (items,
intervals, rates, summaries, suppression, figures, report, exports) imports neither Flask nor SQLAlchemy, so it can
be used alone (a notebook, a script). The secretariat's pages that present it live in analysis.routes, which
defines the blueprint, and the commands in analysis.cli.
"""
