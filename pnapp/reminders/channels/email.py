"""The e-mail channel: one message to one address, through SMTP or, with no server
configured, as an .eml file in the instance folder (the embedded default, RECIPES.md).

The standard library rather than Flask-Mail: smtplib takes a timeout (Flask-Mail 0.10 has
none and would hang a sender on a silent server) and works the same under TESTING.
SMTP answers: 4xx, refused connections and time-outs retry; 5xx is permanent, and a 5xx
about the recipient means the address is dead ("gone").
"""

from __future__ import annotations

import logging
import smtplib
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app

from pnapp.reminders.channels import TransportError

log = logging.getLogger(__name__)

TIMEOUT_S = 10.0


def message(
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    unsubscribe_url: str | None = None,
    language: str = "en",
) -> Message:
    """A mail as every pnapp mail is: plain text first, simple HTML beside it, never an
    auto-reply target, and one-click unsubscribe (RFC 8058) on reminders.

    Built with the email package's classic (compat32) classes: EmailMessage parses every
    header it is given through the header registry, which took 1.5 ms a mail against
    0.08 ms here, and a reminder pass writes thousands. Non-ASCII words are encoded here
    (RFC 2047 headers; UTF-8 bodies in base64), so the result is plain 7-bit.
    """
    config = current_app.config
    msg = MIMEMultipart("alternative") if html else MIMEText(text, "plain")
    msg["From"] = formataddr(parseaddr(config["MAIL_FROM"]))  # a non-ASCII name, encoded
    msg["To"] = to
    msg["Subject"] = _header(subject)
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = make_msgid(domain=urlsplit(config["PUBLIC_URL"]).hostname or "pnapp")
    msg["Content-Language"] = language
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to us
    if unsubscribe_url:
        msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if html:
        msg.attach(MIMEText(text, "plain"))  # us-ascii when it can be, else UTF-8
        msg.attach(MIMEText(html, "html"))
    return msg


def _header(value: str) -> str | Header:
    return value if value.isascii() else Header(value, "utf-8")


@dataclass
class Connection:
    """What the mails of one pass share: the server's settings and the SMTP sessions not in
    use. A session carries many messages (SMTP allows it, and a new TCP + EHLO per mail
    would cost more than the mail), one sending thread at a time; no app context needed."""

    server: str | None
    port: int
    ssl: bool
    starttls: bool
    username: str | None
    password: str
    folder: Path
    _idle: deque = field(default_factory=deque)

    def open(self) -> smtplib.SMTP:
        smtp_class = smtplib.SMTP_SSL if self.ssl else smtplib.SMTP
        smtp = smtp_class(self.server, self.port, timeout=TIMEOUT_S)
        try:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password)
        except BaseException:
            _close(smtp)
            raise
        return smtp

    def close(self) -> None:
        while self._idle:
            smtp = self._idle.pop()
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                _close(smtp)


@contextmanager
def connect() -> Iterator[Connection]:
    """The mail settings for a pass; its SMTP sessions are closed (QUIT) afterwards."""
    config = current_app.config
    connection = Connection(
        server=config.get("MAIL_SERVER") or None,
        port=int(config.get("MAIL_PORT") or 25),
        ssl=_flag(config.get("MAIL_USE_SSL")),
        starttls=_flag(config.get("MAIL_USE_TLS")),
        username=config.get("MAIL_USERNAME") or None,
        password=config.get("MAIL_PASSWORD") or "",
        folder=Path(current_app.instance_path) / "mail",
    )
    try:
        yield connection
    finally:
        connection.close()


def send(connection: Connection, msg: Message) -> None:
    """Deliver one message, or raise TransportError."""
    if connection.server is None:
        path = _write_eml(msg, connection.folder)
        log.info("No mail server is set: the message was written to %s", path.name)
        return
    try:
        smtp = connection._idle.pop()
    except IndexError:
        smtp = None
    if smtp is not None:
        try:
            smtp.send_message(msg)
            connection._idle.append(smtp)
            return
        except smtplib.SMTPServerDisconnected:
            # The server closed a session that waited between batches: a new one, once.
            _close(smtp)
        except (OSError, ValueError) as err:
            raise _failed(connection, smtp, err) from None
    smtp = None
    try:
        smtp = connection.open()
        smtp.send_message(msg)
    except (OSError, ValueError) as err:
        raise _failed(connection, smtp, err) from None
    connection._idle.append(smtp)


def _failed(connection: Connection, smtp: smtplib.SMTP | None, err: Exception) -> TransportError:
    """The TransportError for a failed message. The session goes back to the pool only when
    smtplib left it ready for the next message (it sends RSET after refused recipients)."""
    if isinstance(err, smtplib.SMTPRecipientsRefused):
        connection._idle.append(smtp)
        codes = [code for code, _ in err.recipients.values()]
        temporary = all(400 <= code < 500 for code in codes)
        return TransportError(
            f"recipient refused ({', '.join(map(str, codes))})",
            permanent=not temporary,
            gone=not temporary,
            status=codes[0] if codes else None,
        )
    if smtp is not None:
        _close(smtp)
    # Every SMTPException is an OSError: the specific answers first.
    if isinstance(err, smtplib.SMTPResponseException):
        return TransportError(
            f"SMTP {err.smtp_code}", permanent=err.smtp_code >= 500, status=err.smtp_code
        )
    if isinstance(err, smtplib.SMTPNotSupportedError | ValueError):
        # An address the server cannot take (non-ASCII without SMTPUTF8): the same again
        # cannot help.
        return TransportError(type(err).__name__, permanent=True)
    return TransportError(type(err).__name__, permanent=False)  # refused, timed out, down


def _close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.close()
    except OSError:
        pass


def _flag(value) -> bool:
    return str(value).lower() in ("1", "true", "yes", "on")


def _write_eml(msg: Message, folder: Path) -> Path:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = f"{time.strftime('%Y%m%dT%H%M%S')}-{msg['Message-ID'].strip('<>')}.eml"
    path = folder / name.replace("@", "_at_")
    path.write_bytes(msg.as_bytes(policy=msg.policy.clone(linesep="\r\n")))
    path.chmod(0o600)
    return path
