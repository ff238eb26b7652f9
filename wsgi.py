"""Composition root: create_app() assembles configuration, extensions and the domain blueprints; `app` is for gunicorn."""

import os

from flask import Flask


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application; no migrations, network or prompts happen here."""
    from flask_babel import get_locale

    from analysis.cli import register_cli as register_analysis_cli
    from analysis.coding_routes import bp as coding_bp
    from analysis.findings_routes import bp as findings_bp
    from analysis.routes import bp as analysis_bp
    from engagement import account_routes, audit, audit_log, auth
    from engagement.cli import register_cli as register_shell_cli
    from engagement.config import load_config
    from engagement.database import close_request_connection
    from engagement.dates import init_dates
    from engagement.errors import init_error_handlers
    from engagement.extensions import babel, compress, csrf, db, htmx, limiter, login_manager, migrate
    from engagement.health import init_health
    from engagement.i18n import LANGUAGE_NAMES, select_locale
    from engagement.logging import init_request_logging
    from engagement.security import init_security_headers
    from engagement.urls import IdConverter
    from partners.cli import register_cli as register_partners_cli
    from partners.routes import bp as registry_bp
    from surveys.cli import register_cli as register_surveys_cli
    from surveys.mail_text_routes import bp as round_mail_bp
    from surveys.previews import bp as previews_bp
    from surveys.response_routes import bp as responses_bp
    from surveys.round_routes import bp as rounds_bp
    from surveys.rounds import round_names
    from surveys.routes import bp as partner_pages_bp
    from surveys.survey_routes import bp as survey_library_bp
    from surveys.upload_routes import bp as uploaded_files_bp

    root = os.path.dirname(os.path.abspath(__file__))
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=os.path.join(root, "templates"),
        static_folder=os.path.join(root, "static"),
    )
    app.url_map.converters["int"] = IdConverter  # before any route is added
    app.config.update(load_config(app.instance_path, test_config))
    app.session_interface = auth.SignedCookieSessions()
    os.makedirs(app.instance_path, exist_ok=True)

    db.init_app(app)
    app.teardown_appcontext(close_request_connection)
    migrate.init_app(app, db, directory=os.path.join(root, "migrations"), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=os.path.join(root, "translations"))
    limiter.init_app(app)
    compress.init_app(app)
    htmx.init_app(app)
    app.jinja_env.globals.update(LANGUAGE_NAMES=LANGUAGE_NAMES, get_locale=get_locale)
    app.jinja_env.add_extension("jinja2.ext.do")

    init_security_headers(app)
    init_error_handlers(app)
    init_request_logging(app)
    init_health(app)
    init_dates(app)

    app.register_blueprint(auth.bp)
    app.register_blueprint(audit_log.bp)
    app.register_blueprint(account_routes.bp)
    app.register_blueprint(partner_pages_bp)
    app.register_blueprint(registry_bp)
    app.register_blueprint(rounds_bp)
    app.register_blueprint(round_mail_bp)
    app.register_blueprint(survey_library_bp)
    app.register_blueprint(previews_bp)
    app.register_blueprint(responses_bp)
    app.register_blueprint(analysis_bp)
    app.register_blueprint(coding_bp)
    app.register_blueprint(findings_bp)
    app.register_blueprint(uploaded_files_bp)

    audit.name_targets("round", round_names)  # the audit log names rounds ("round 3" is stored)

    register_shell_cli(app)
    register_partners_cli(app)
    register_surveys_cli(app)
    register_analysis_cli(app)
    return app


def __getattr__(name: str):
    """`wsgi.app` is built on first use, so importing create_app (tests, tools) builds nothing."""
    if name == "app":
        globals()["app"] = application = create_app()
        return application
    raise AttributeError(name)
