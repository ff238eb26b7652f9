"""The app's request class: a URL-encoded form read in one step."""

import io
from urllib.parse import parse_qsl

import flask
from werkzeug import urls  # noqa: F401  (registers the "werkzeug.url_quote" error handler used below, as Werkzeug does)
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge

URLENCODED = "application/x-www-form-urlencoded"


class Request(flask.Request):
    """Flask's request, reading a URL-encoded form of declared length straight from the input.

    Every partner POST is such a form (an autosave is two fields), and Werkzeug's general form parser (a limited
    stream, the content type parsed, a parser object) cost a sixteenth of an autosave, more than validating the
    answer. The result and the refusals are Werkzeug's: 413 over MAX_CONTENT_LENGTH, 400 for a body shorter than
    announced, an empty form for a body that is not UTF-8. Any other body (multipart, a charset parameter, no
    length, chunked) goes to Werkzeug's parser.
    """

    def _load_form_data(self) -> None:
        environ = self.environ
        length = environ.get("CONTENT_LENGTH")
        if ("form" in self.__dict__ or environ.get("CONTENT_TYPE") != URLENCODED or not length
                or not length.isdigit() or environ.get("HTTP_TRANSFER_ENCODING")):
            return super()._load_form_data()
        length = int(length)
        limit = self.max_content_length
        if limit is not None and length > limit:
            raise RequestEntityTooLarge()
        body = environ["wsgi.input"].read(length)
        if len(body) != length:
            raise ClientDisconnected()
        try:
            items = parse_qsl(body.decode(), keep_blank_values=True, errors="werkzeug.url_quote")
        except ValueError:  # not UTF-8: Werkzeug's parser gives an empty form too
            items = []
        self.__dict__.update(stream=io.BytesIO(), form=self.parameter_storage_class(items),
                             files=self.parameter_storage_class())
