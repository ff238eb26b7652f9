"""The app's request class reads URL-encoded forms itself: the same form and the same refusals as Werkzeug's parser."""

import io

import flask
import pytest

from engagement.requests import Request

BODIES = [
    b"",
    b"region=africa&region__present=1",
    b"a=1&a=2&b=",
    b"flag&empty=&=novalue",
    b"text=%C3%A9t%C3%A9+%E6%9C%8D%E5%8A%A1+%D8%AE%D8%AF%D9%85%D8%A9&plus=a%2Bb",
    b"broken=%ZZ%&half=%E6%9C",  # malformed escapes and a cut UTF-8 sequence
    b"latin=%E9t%E9",  # percent-encoded bytes that are not UTF-8
    b"raw=\xe9t\xe9",  # raw bytes that are not UTF-8
    b"quotes=%22%3Cscript%3E%27&semi=a;b",
]


def _app(request_class, limit=1024):
    app = flask.Flask(__name__)
    app.request_class = request_class
    app.config["MAX_CONTENT_LENGTH"] = limit

    @app.post("/form")
    def form():
        return {"form": list(flask.request.form.items(multi=True)), "files": len(flask.request.files),
                "rest": flask.request.get_data().decode()}

    return app


def _post(app, body: bytes, content_type="application/x-www-form-urlencoded", length=None):
    environ = {"CONTENT_TYPE": content_type, "CONTENT_LENGTH": str(len(body) if length is None else length)}
    return app.test_client().post("/form", input_stream=io.BytesIO(body), environ_overrides=environ)


@pytest.mark.parametrize("body", BODIES)
def test_form_is_the_same_as_werkzeugs(body):
    ours, theirs = _post(_app(Request), body), _post(_app(flask.Request), body)
    assert ours.status_code == theirs.status_code == 200
    assert ours.get_json() == theirs.get_json()


def test_form_is_read_without_werkzeugs_parser(monkeypatch):
    """The fast path is taken for a plain URL-encoded form (else this test would pass with Werkzeug's parser)."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("Werkzeug's form parser was used")

    monkeypatch.setattr(flask.Request, "_load_form_data", refuse)
    answer = _post(_app(Request), b"region=africa&region__present=1")
    assert answer.get_json()["form"] == [["region", "africa"], ["region__present", "1"]]


def test_a_form_over_the_limit_is_refused_unread():
    answer = _post(_app(Request, limit=16), b"text=" + b"x" * 64)
    assert answer.status_code == 413


def test_a_body_shorter_than_announced_is_a_bad_request():
    assert _post(_app(Request), b"a=1", length=10).status_code == 400


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded; charset=UTF-8",
                                          "multipart/form-data; boundary=X"])
def test_other_bodies_go_to_werkzeug(content_type):
    body = b"a=1&b=%C3%A9" if "urlencoded" in content_type else (
        b'--X\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--X--\r\n')
    ours, theirs = _post(_app(Request), body, content_type), _post(_app(flask.Request), body, content_type)
    assert ours.status_code == theirs.status_code == 200
    assert ours.get_json() == theirs.get_json()
    assert ours.get_json()["form"][0] == ["a", "1"]


def test_the_app_uses_it(app):
    assert app.request_class is Request
