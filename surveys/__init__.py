"""Surveys: XLSForm definitions, rounds, invitations and the partner's pages.

Importing this package loads no Flask, so surveys.definition, surveys.expressions and surveys.xlsform can be used
alone (the analysis does); the blueprint is defined in surveys.routes and the Secretariat's round pages join it
from surveys.round_routes.
"""
