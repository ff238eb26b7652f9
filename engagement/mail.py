"""Sending mail: one SMTP connection per run, or `.eml` files in OUTBOX_DIR when SMTP_HOST is empty (development).

The partners' invitations (surveys.mailing) and the staff's own mails (engagement.accounts) go through here, so
there is one mailer. `send_after_response` sends in the background, for a mail whose sending time must not show in
the page's answer time (a password reset says nothing about whether the address has an account).
"""

import smtplib
import ssl
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from pathlib import Path

from flask import copy_current_request_context, current_app

Send = Callable[[EmailMessage], None]


def new_message(to_name: str, to_email: str, subject: str, language: str) -> EmailMessage:
    """A message with the Secretariat's headers (From, Reply-To, Date, Message-ID); the caller adds the body."""
    config = current_app.config
    message = EmailMessage()
    message["Subject"] = " ".join(subject.split())
    message["From"] = config["MAIL_SENDER"]
    message["To"] = formataddr((" ".join((to_name or "").split()), to_email.strip()))
    message["Reply-To"] = config["SECRETARIAT_EMAIL"]
    message["Date"] = formatdate(localtime=False)
    sender_domain = parseaddr(config["MAIL_SENDER"])[1].rpartition("@")[2] or None
    message["Message-ID"] = make_msgid(domain=sender_domain)
    message["Content-Language"] = language
    return message


def set_body(message: EmailMessage, text: str, html: str) -> None:
    """A plain-text part, then the HTML alternative; keeps Content-Language (set_content clears Content-*)."""
    language = message["Content-Language"]
    message.set_content(text.strip() + "\n")
    message.add_alternative(html, subtype="html")
    if language:
        del message["Content-Language"]
        message["Content-Language"] = language


def _outbox_sender(directory: Path) -> Send:
    directory.mkdir(parents=True, exist_ok=True)

    def send(message: EmailMessage) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        recipient = parseaddr(str(message["To"]))[1].rpartition("@")[0] or "contact"
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in recipient)[:60]
        (directory / f"{stamp}-{safe}.eml").write_bytes(bytes(message))

    return send


@contextmanager
def mail_sender() -> Iterator[Send]:
    """A function that sends one message: over one SMTP connection, or into OUTBOX_DIR when SMTP_HOST is empty."""
    config = current_app.config
    if not config.get("SMTP_HOST"):
        yield _outbox_sender(Path(config["OUTBOX_DIR"]))
        return
    security = (config.get("SMTP_SECURITY") or "none").lower()
    timeout = config.get("SMTP_TIMEOUT", 30)
    if security == "tls":
        connection = smtplib.SMTP_SSL(config["SMTP_HOST"], config["SMTP_PORT"], timeout=timeout,
                                      context=ssl.create_default_context())
    else:
        connection = smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=timeout)
    try:
        if security == "starttls":
            connection.starttls(context=ssl.create_default_context())
        if config.get("SMTP_USERNAME"):
            connection.login(config["SMTP_USERNAME"], config.get("SMTP_PASSWORD", ""))
        yield connection.send_message
    finally:
        try:
            connection.quit()
        except (smtplib.SMTPException, OSError):
            connection.close()


def send_now(message: EmailMessage) -> None:
    """Send one message; smtplib.SMTPException or OSError when the server refuses it or cannot be reached."""
    with mail_sender() as send:
        send(message)


# One background sender per process: mails wait their turn rather than opening many SMTP connections at once.
_background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mail")
_pending: set[Future] = set()
_pending_lock = threading.Lock()


def send_after_response(job: Callable[[], EmailMessage | None]) -> None:
    """Build and send a mail in the background, inside a copy of this request's context (config, database session
    of its own); a mail that fails is logged, since nobody waits for it."""

    @copy_current_request_context
    def run():
        try:
            message = job()
            if message is not None:
                send_now(message)
        except Exception:
            current_app.logger.exception("a mail sent in the background failed")

    future = _background.submit(run)
    with _pending_lock:
        _pending.add(future)
    future.add_done_callback(_forget)


def _forget(future: Future) -> None:
    with _pending_lock:
        _pending.discard(future)


def wait_for_background_mail(timeout: float = 10) -> None:
    """Wait until the mails handed to the background are sent (tests, and a command that must not exit first)."""
    with _pending_lock:
        pending = set(_pending)
    wait(pending, timeout=timeout)
