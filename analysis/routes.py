"""Secretariat pages: rounds overview, monitoring dashboard, audit log."""

from datetime import UTC, datetime

from flask import Blueprint, abort, current_app, request, stream_with_context, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField

from engagement.audit import record
from engagement.auth import admin_required, require_secretariat
from engagement.database import run_write
from engagement.errors import error_page
from engagement.extensions import db
from engagement.htmx import render
from engagement.models import AuditEntry
from partners.registry import ACTION_GROUPS, CATEGORIES, REGIONS
from surveys.models import Round

from . import exports, monitoring
from .charts import cumulative_line_svg

bp = Blueprint("analysis", __name__, url_prefix="/secretariat")
bp.before_request(require_secretariat)

AUDIT_PAGE_SIZE = 50


def category_label(code: str) -> str:
    return str(CATEGORIES.get(code, code))


def region_label(code: str) -> str:
    return str(REGIONS.get(code, code))


def action_group_label(code: str) -> str:
    if not code:
        return _("No Action Group")
    return str(ACTION_GROUPS.get(code, code.replace("_", " ").capitalize()))


def in_order(rows: dict, vocabulary: dict) -> dict:
    """Rows in the registry's order (as the forms list them), unknown codes last."""
    order = {code: index for index, code in enumerate(vocabulary)}
    return dict(sorted(rows.items(), key=lambda item: (order.get(item[0], len(order)), item[0] or "")))


class MonitoringFilterForm(FlaskForm):
    """The dashboard's filter: a GET form, so no CSRF token and the filter lives in the URL."""

    class Meta:
        csrf = False

    category = SelectField(_l("Partner category"), default="")
    region = SelectField(_l("Region"), default="")
    pathfinder = SelectField(_l("Pathfinder Country"), default="")
    action_group = SelectField(_l("Action Group"), default="")

    def __init__(self, action_groups: list[str], **kwargs):
        super().__init__(formdata=request.args, **kwargs)
        everything = [("", _("All"))]
        self.category.choices = everything + [(code, str(label)) for code, label in CATEGORIES.items()]
        self.region.choices = everything + [(code, str(label)) for code, label in REGIONS.items()]
        self.pathfinder.choices = everything + [("yes", _("Pathfinder Countries")), ("no", _("Not Pathfinder"))]
        self.action_group.choices = everything + [(code, action_group_label(code)) for code in action_groups]

    def filters(self) -> dict:
        """The valid filters only; a value that is not a choice is left out (and its field shows why)."""
        self.validate()
        return {name: self[name].data for name in monitoring.FILTERS if self[name].data and not self[name].errors}


@bp.get("/")
def rounds_overview():
    """The Secretariat's home: every round and how far it has come."""
    return render("analysis/rounds.html", rounds=monitoring.rounds_overview())


@bp.get("/rounds/<int:round_id>/dashboard")
def dashboard(round_id: int):
    """Who has answered a round, overall and by partner group; the open page polls its numbers block."""
    round_ = db.get_or_404(Round, round_id)
    form = MonitoringFilterForm(monitoring.action_groups_in_round(round_id))
    filters = form.filters()
    data = monitoring.monitoring(round_, filters)
    data.by_category = in_order(data.by_category, CATEGORIES)
    data.by_region = in_order(data.by_region, REGIONS)
    points = [(format_date(day, "d MMM"), cumulative) for day, _count, cumulative in data.submissions_per_day]
    chart = cumulative_line_svg(
        points, title=_("Submitted responses, cumulative, by day"),
        description=_("%(total)s responses submitted by %(day)s; the table below gives each day.",
                      total=data.total.submitted, day=points[-1][0] if points else ""),
        y_label=_("Submitted"), chart_id="submissions-chart")
    labels = {"category": category_label, "region": region_label, "action_group": action_group_label,
              "pathfinder": lambda yes: _("Pathfinder Countries") if yes else _("Not Pathfinder")}
    now = datetime.now(UTC)
    due = monitoring.due_for_reminder(data.non_respondents, now, current_app.config.get("REMINDER_MIN_HOURS", 20))
    return render("analysis/dashboard.html", block="monitor", status=400 if form.errors else 200,
                  round=round_, form=form, filters=filters, data=data, chart=chart, labels=labels,
                  updated_at=now, due=due,
                  poll_url=url_for("analysis.dashboard", round_id=round_id, **filters))


@bp.get("/audit")
@admin_required
def audit_log():
    """Who did what and when, newest first; only admins read it."""
    actions = db.session.scalars(db.select(AuditEntry.action).distinct().order_by(AuditEntry.action)).all()
    action = request.args.get("action", "")
    page = request.args.get("page", 1, type=int)
    query = db.select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    unknown_action = bool(action) and action not in actions
    if action and not unknown_action:
        query = query.where(AuditEntry.action == action)
    entries = db.paginate(query, page=max(page, 1), per_page=AUDIT_PAGE_SIZE, error_out=False)
    return render("analysis/audit.html", block="entries", status=400 if unknown_action else 200,
                  entries=entries, actions=actions, action="" if unknown_action else action,
                  unknown_action=action if unknown_action else None)


# -- exports: the round's responses as CSV, long CSV and XLSX, streamed --------------------------------------


def _export_flag(name: str) -> bool:
    return request.args.get(name, "").lower() in ("1", "true", "yes", "on")


def _download(round_id: int, format_: str):
    """Stream an export; it is in the audit log before the first byte leaves."""
    try:
        export = exports.prepare(db.session, round_id, format_, labels=request.args.get("labels"),
                                 bom=_export_flag("bom"), anonymised=_export_flag("anonymised"))
    except LookupError:
        abort(404)
    except ValueError:
        return error_page(400, _("These labels are not in a language of this survey."))
    run_write(lambda: record("responses.export", f"round {round_id}", format=format_, labels=export.labels,
                             bom=export.bom, anonymised=export.anonymised))
    chunks = stream_with_context(export.chunks(db.session))
    response = current_app.response_class(chunks, mimetype=export.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/rounds/<int:round_id>/export.csv")
def export_csv(round_id: int):
    """The responses of a round, one row per response (codes, or labels with ?labels=fr)."""
    return _download(round_id, "csv")


@bp.get("/rounds/<int:round_id>/export-long.csv")
def export_long_csv(round_id: int):
    """The answers of a round, one row per answer: the shape pandas and R users want."""
    return _download(round_id, "long")


@bp.get("/rounds/<int:round_id>/export.xlsx")
def export_xlsx(round_id: int):
    """The responses of a round as a workbook with its codebook."""
    return _download(round_id, "xlsx")
