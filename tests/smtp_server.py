"""A real SMTP server on localhost (aiosmtpd) for the tests that send mail: the `smtp` fixture points the app at it."""

import socket
from email import policy
from email.parser import BytesParser

import pytest
from aiosmtpd.controller import Controller


class Collector:
    """An SMTP handler keeping every message; it can refuse DATA after k messages or refuse some recipients."""

    def __init__(self):
        self.messages = []
        self.fail_after = None
        self.refuse = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.fail_after is not None and len(self.messages) >= self.fail_after:
            return "451 4.3.0 Local problem, try again later"
        self.messages.append((envelope.rcpt_tos[:], BytesParser(policy=policy.default).parsebytes(envelope.content)))
        return "250 Message accepted for delivery"

    def to(self, address: str):
        return [message for rcpts, message in self.messages if address in rcpts]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp(app):
    collector = Collector()
    port = free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_SECURITY="none", SMTP_TIMEOUT=5)
    collector.controller = controller
    yield collector
    if controller._thread is not None:
        controller.stop()


