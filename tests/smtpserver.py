"""A real SMTP server on 127.0.0.1 for the tests (aiosmtpd): it keeps every message it
accepts, parsed, and can be told to refuse recipients (4xx or 5xx) or to be down."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """aiosmtpd's handler: what arrived, and how to answer the next RCPT."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse_with: str | None = None  # e.g. "451 4.3.0 Try again later"
        self._arrived = threading.Condition()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_with:
            return self.refuse_with
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._arrived:
            self.messages.append(msg)
            self._arrived.notify_all()
        return "250 Message accepted"

    def clear(self) -> None:
        with self._arrived:
            self.messages.clear()
        self.refuse_with = None

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def wait_for(self, address: str, count: int = 1, timeout: float = 10.0) -> list[EmailMessage]:
        """The messages to `address` once at least `count` arrived (mail a person waits for
        leaves in the background, right after the request)."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.to(address)) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"{len(self.to(address))} of {count} messages to {address} arrived"
                    )
                self._arrived.wait(left)
            return self.to(address)


def link_in(msg: EmailMessage, start: str) -> str:
    """The first link in the plain-text part that starts with `start`."""
    text = msg.get_body(("plain",)).get_content()
    for word in text.split():
        if word.startswith(start):
            return word
    raise AssertionError(f"no link starting with {start} in:\n{text}")


class SmtpServer:
    def __init__(self) -> None:
        self.mailbox = Mailbox()
        self.port = free_port()
        self._controller: Controller | None = None

    def start(self) -> SmtpServer:
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
