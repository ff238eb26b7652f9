"""The language of every page: the partner's survey language, else the browser's choice."""

from flask import current_app, g, has_request_context, request

LANGUAGE_NAMES = {"en": "English", "fr": "Français", "es": "Español"}


def select_locale() -> str:
    language = g.get("language")
    if language in current_app.config["LANGUAGES"]:
        return language
    if not has_request_context():  # commands and mail jobs: English unless force_locale says otherwise
        return "en"
    return request.accept_languages.best_match(current_app.config["LANGUAGES"]) or "en"
