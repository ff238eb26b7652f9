"""Secretariat pages: rounds overview, monitoring dashboard, the collective analysis report."""

import csv
import io
from collections import OrderedDict
from datetime import UTC, datetime
from pathlib import Path
from threading import Lock

from flask import Blueprint, abort, current_app, render_template, request, stream_with_context, url_for
from flask_babel import force_locale, format_date, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import func
from wtforms import SelectField

from engagement.audit import record
from engagement.auth import require_secretariat
from engagement.database import run_write
from engagement.dates import long_date
from engagement.errors import error_page
from engagement.extensions import db
from engagement.htmx import render
from engagement.spreadsheets import BOM, neutralise, wants_bom
from partners.models import Contact, Organisation
from partners.registry import ACTION_GROUPS, CATEGORIES, REGIONS
from surveys.models import Invitation, Response, Round, SurveyVersion
from surveys.upload_routes import files_url
from surveys.versions import definition_for

from . import anonymisation, exports, monitoring
from .coding_store import coding_stamp, load_coding, theme_names
from .figures import cumulative_line_svg
from .loader import iter_responses, load_round, respondent_rows, round_and_definition
from .models import edited_findings
from .report.builder import build_report
from .report.findings import findings_fingerprint
from .report.model import Filters, translation
from .report.pdf import report_pdf
from .report.word import report_docx

bp = Blueprint("analysis", __name__, url_prefix="/secretariat")
bp.before_request(require_secretariat)


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
    days = data.submissions_per_day
    points = [(format_date(day, "d MMM"), cumulative) for day, _count, cumulative in days]  # axis ticks: short
    chart = cumulative_line_svg(
        points, title=_("Submitted responses, cumulative, by day"),
        description=_("%(total)s responses submitted by %(day)s; the table below gives each day.",
                      total=data.total.submitted, day=long_date(days[-1][0]) if days else ""),
        y_label=_("Submitted"), chart_id="submissions-chart")
    labels = {"category": category_label, "region": region_label, "action_group": action_group_label,
              "pathfinder": lambda yes: _("Pathfinder Countries") if yes else _("Not Pathfinder")}
    now = datetime.now(UTC)
    due = monitoring.due_for_reminder(data.non_respondents, now, current_app.config.get("REMINDER_GAP_DAYS", 3))
    return render("analysis/dashboard.html", block="monitor", status=400 if form.errors else 200,
                  round=round_, form=form, filters=filters, data=data, chart=chart, labels=labels,
                  updated_at=now, due=due, languages=definition_for(round_.survey_version).languages,
                  poll_url=url_for("analysis.dashboard", round_id=round_id, **filters))


# -- exports: the round's responses as CSV, long CSV and XLSX, streamed --------------------------------------


REGISTRY_TITLES = {
    "response_id": _l("Response id"), "round": _l("Round"), "organisation": _l("Organisation"),
    "category": _l("Partner category"), "region": _l("Region"), "country": _l("Country"),
    "pathfinder": _l("Pathfinder Country"), "language": _l("Language"), "status": _l("Status"),
    "started_at": _l("Started (UTC)"), "submitted_at": _l("Submitted (UTC)"),
}


def registry_titles(language: str) -> dict[str, str]:
    """The export's registry columns in words, in the language of its labels (not the reader's)."""
    with force_locale(language):
        return {name: str(title) for name, title in REGISTRY_TITLES.items()}


def _export_flag(name: str) -> bool:
    return request.args.get(name, "").lower() in ("1", "true", "yes", "on")


def _download(round_id: int, format_: str):
    """Stream an export; it is in the audit log before the first byte leaves."""
    try:
        round_, definition = round_and_definition(db.session, round_id)
        export = exports.prepare(round_.id, round_.name, definition, format_, labels=request.args.get("labels"),
                                 bom=wants_bom(request.args.get("bom")), files_url=files_url())
    except LookupError:
        abort(404)
    except ValueError:
        return error_page(400, _("These labels are not in a language of this survey."))
    if export.labels:
        export.registry_titles = registry_titles(export.labels)
    if not _export_flag("anonymised"):
        export.themes = theme_names(db.session, round_id)
    readme = ""
    if _export_flag("anonymised"):
        export.anonymisation = anonymisation.plan(respondent_rows(db.session, round_id), definition,
                                                  current_app.config.get("SUPPRESSION_THRESHOLD", 5))
        readme = export.anonymisation.readme(round_.name, _)
    run_write(lambda: record("responses.export", f"round {round_id}", **export.audit_details()))
    chunks = stream_with_context(export.chunks(iter_responses(db.session, round_id, definition), readme))
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


# -- the collective analysis report: page, htmx sections, CSV per table, the self-contained file --------------

REPORT_CACHE_SIZE = 16  # reports kept in this process, least recently used dropped first
_report_cache: "OrderedDict[tuple, object]" = OrderedDict()
_report_cache_lock = Lock()
STANDALONE_FRAME = """<!doctype html>
<html lang="{{ report.language }}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{% block title %}{% endblock %}</title><style>{{ inline_css }}</style></head>
<body><main id="main" class="wrap">{% block content %}{% endblock %}</main></body>
</html>"""


NO_COMPARISON = "none"


class ReportFilterForm(FlaskForm):
    """The report's filters and the round to compare with: a GET form, so the filtered URL can be shared."""

    class Meta:
        csrf = False

    category = SelectField(_l("Partner category"), default="")
    region = SelectField(_l("Region"), default="")
    pathfinder = SelectField(_l("Pathfinder Country"), default="")
    compare = SelectField(_l("Compare with round"), default=NO_COMPARISON)
    weighting = SelectField(_l("Count"), default="")

    def __init__(self, rounds: list[Round], default_compare: Round | None = None, **kwargs):
        kwargs.setdefault("compare", str(default_compare.id) if default_compare else NO_COMPARISON)
        super().__init__(formdata=request.args, **kwargs)
        everything = [("", _("All"))]
        self.category.choices = everything + [(code, str(label)) for code, label in CATEGORIES.items()]
        self.region.choices = everything + [(code, str(label)) for code, label in REGIONS.items()]
        self.pathfinder.choices = everything + [("yes", _("Pathfinder Countries")), ("no", _("Not Pathfinder"))]
        language = str(get_locale() or "en")
        self.compare.choices = [(NO_COMPARISON, _("No comparison"))] + [(str(r.id), r.name_in(language)) for r in rounds]
        self.weighting.choices = [("", _("every respondent once")),
                                  ("organisation", _("every organisation once (1/k weights)"))]

    def selection(self) -> tuple[Filters, int | None, dict]:
        """The valid filters, the round to compare with, and the query string that reproduces them.

        The query always names the comparison (a round's id or "none"), so links and downloads keep the choice
        the page shows even when it was the default."""
        self.validate()
        valid = {name: self[name].data for name in ("category", "region", "pathfinder", "compare", "weighting")
                 if self[name].data and not self[name].errors}
        valid.setdefault("compare", NO_COMPARISON)
        filters = Filters(valid.get("category", ""), valid.get("region", ""),
                                        valid.get("pathfinder", ""), valid.get("weighting", ""))
        compare_id = None if valid["compare"] == NO_COMPARISON else int(valid["compare"])
        return filters, compare_id, valid


def report_selection(round_: Round) -> tuple[Filters, int | None, dict, ReportFilterForm]:
    """The filters of the request, compared by default with the round's latest earlier closed round."""
    rounds = comparable_rounds(round_)
    form = ReportFilterForm(rounds, default_compare=default_comparison(round_, rounds))
    return (*form.selection(), form)


def default_comparison(round_: Round, rounds: list[Round]) -> Round | None:
    """Last year's round, as the secretariat compares by default: the latest closed round that closed earlier."""
    earlier = [r for r in rounds if r.status == "closed" and r.closes_on < round_.closes_on]
    return max(earlier, key=lambda r: (r.closes_on, r.id), default=None)


def comparable_rounds(round_: Round) -> list[Round]:
    """Other rounds of the same survey (any version), newest first."""
    survey_id = round_.survey_version.survey_id
    return db.session.scalars(
        db.select(Round).join(Round.survey_version)
        .where(SurveyVersion.survey_id == survey_id, Round.id != round_.id)
        .order_by(Round.created_at.desc(), Round.id.desc())).all()


def round_stamp(round_id: int) -> tuple:
    """What changes when the report must change: responses saved, invitations added or marked, registry edits."""
    row = db.session.execute(
        db.select(func.max(Response.updated_at), func.count(Response.id), func.count(Invitation.id),
                  func.count(Invitation.ineligible), func.max(Organisation.updated_at))
        .select_from(Invitation)
        .join(Contact, Invitation.contact_id == Contact.id)
        .join(Organisation, Contact.organisation_id == Organisation.id)
        .outerjoin(Response, Response.invitation_id == Invitation.id)
        .where(Invitation.round_id == round_id)).one()
    return tuple(str(value) for value in row)


def build_round_report(round_id: int, filters, compare_id: int | None, language: str | None = None):
    """Load the round (and the one to compare with) and build its report, in the user's language."""
    data = load_round(db.session, round_id)
    previous = load_round(db.session, compare_id) if compare_id else None
    locale = language or str(get_locale() or "en")
    return build_report(
        data, filters=filters, previous=previous, coding=load_coding(db.session, round_id), threshold=current_app.config.get("SUPPRESSION_THRESHOLD", 5),
        language=locale if locale in data.definition.languages else None, gettext=_, locale=locale,
        group_labels={"category": {k: str(v) for k, v in CATEGORIES.items()},
                      "region": {k: str(v) for k, v in REGIONS.items()}})


def cached_report(round_id: int, filters, compare_id: int | None):
    """The report from this process's LRU cache, keyed by the round's latest change, so new answers show at once."""
    key = (current_app.config["SQLALCHEMY_DATABASE_URI"], round_id, filters, compare_id,
           current_app.config.get("SUPPRESSION_THRESHOLD", 5),
           str(get_locale() or "en"), round_stamp(round_id),
           coding_stamp(db.session, round_id), round_stamp(compare_id) if compare_id else None)
    with _report_cache_lock:
        if key in _report_cache:
            _report_cache.move_to_end(key)
            return _report_cache[key]
    built = build_round_report(round_id, filters, compare_id)
    with _report_cache_lock:
        _report_cache[key] = built
        while len(_report_cache) > REPORT_CACHE_SIZE:
            _report_cache.popitem(last=False)
    return built


def filter_labels(filters) -> list[str]:
    labels = []
    if filters.category:
        labels.append(category_label(filters.category))
    if filters.region:
        labels.append(region_label(filters.region))
    if filters.pathfinder:
        labels.append(_("Pathfinder Countries") if filters.pathfinder == "yes" else _("Not Pathfinder"))
    return labels


def standalone_html(report) -> str:
    """The report as one HTML file: the page's stylesheets inlined, charts inline, no script, no link out."""
    css = "\n".join((Path(current_app.static_folder) / "css" / name).read_text(encoding="utf-8")
                    for name in ("site.css", "report.css"))
    frame = current_app.jinja_env.from_string(STANDALONE_FRAME)
    return render_template("analysis/report.html", layout=frame, standalone=True, report=report, query={},
                           inline_css=Markup(css), filter_labels=filter_labels(report.filters))


@bp.get("/rounds/<int:round_id>/report")
def report(round_id: int):
    """The collective analysis of a round; the filter form swaps the sections with htmx, or reloads without JS."""
    round_ = db.get_or_404(Round, round_id)
    filters, compare_id, query, form = report_selection(round_)
    built = cached_report(round_id, filters, compare_id)
    edit = None if filters.active() or filters.weighting else edited_findings(round_id, str(get_locale() or "en"),
                                                                               compare_id)
    return render("analysis/report.html", block="sections", status=400 if form.errors else 200,
                  layout="secretariat.html", standalone=False, report=built, form=form, query=query,
                  filter_labels=filter_labels(filters), findings_edit=edit,
                  findings_outdated=edit is not None and edit.fingerprint != findings_fingerprint(built.findings))


@bp.get("/rounds/<int:round_id>/report/<table_key>.csv")
def report_csv(round_id: int, table_key: str):
    """One table of the report as CSV, with the page's filters; suppressed cells as '–', formulas neutralised."""
    round_ = db.get_or_404(Round, round_id)
    filters, compare_id, _query, _form = report_selection(round_)
    table = cached_report(round_id, filters, compare_id).table(table_key)
    if table is None:
        abort(404)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in table.csv_rows():
        writer.writerow([neutralise(cell) for cell in row])
    text = (BOM if wants_bom(request.args.get("bom")) else "") + buffer.getvalue()
    response = current_app.response_class(text, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="round-{round_id}-{table_key}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


DOCUMENTS = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             "pdf": "application/pdf"}


@bp.get("/rounds/<int:round_id>/report.docx")
def report_word(round_id: int):
    """The report as a Word document, with the page's filters, comparison and suppression."""
    return report_document(round_id, "docx")


@bp.get("/rounds/<int:round_id>/report.pdf")
def report_pdf_file(round_id: int):
    """The report as a PDF, with the page's filters, comparison and suppression."""
    return report_document(round_id, "pdf")


def report_document(round_id: int, kind: str):
    """The report as a file of `kind`, in the user's language, with the page's filters and the analysts' summary."""
    round_ = db.get_or_404(Round, round_id)
    filters, compare_id, _query, _form = report_selection(round_)
    built = cached_report(round_id, filters, compare_id)
    edit = None if filters.active() or filters.weighting else edited_findings(round_id, str(get_locale() or "en"),
                                                                               compare_id)
    scope = " · ".join(filter_labels(filters)) or _("All partners")
    findings = [p for p in edit.text.split("\n\n") if p.strip()] if edit is not None else None
    writer = report_docx if kind == "docx" else report_pdf
    with translation(_):
        content = writer(built, scope, findings)
    response = current_app.response_class(content, mimetype=DOCUMENTS[kind])
    response.headers["Content-Disposition"] = f'attachment; filename="round-{round_id}-report.{kind}"'
    response.headers["Cache-Control"] = "no-store"
    return response
