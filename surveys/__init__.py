"""Surveys: XLSForm definitions, rounds, invitations and the partner's pages."""

from flask import Blueprint

bp = Blueprint("surveys", __name__)

from . import round_routes, routes  # noqa: F401  (the partner's pages and the Secretariat's round pages)
