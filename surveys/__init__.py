"""Surveys: XLSForm definitions, rounds, invitations and the partner's pages."""

from flask import Blueprint

bp = Blueprint("surveys", __name__)

from . import routes  # noqa: E402,F401
