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
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
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
) -> EmailMessage:
    """A mail as every pnapp mail is: plain text first, simple HTML beside it, never an
    auto-reply target, and one-click unsubscribe (RFC 8058) on reminders."""
    config = current_app.config
    msg = EmailMessage()
    msg["From"] = config["MAIL_FROM"]
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = make_msgid(domain=urlsplit(config["PUBLIC_URL"]).hostname or "pnapp")
    msg["Content-Language"] = language
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to us
    if unsubscribe_url:
        msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    return msg


def send(msg: EmailMessage) -> None:
    """Deliver one message, or raise TransportError."""
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        path = _write_eml(msg, Path(current_app.instance_path) / "mail")
        log.info("No mail server is set: the message was written to %s", path.name)
        return
    try:
        smtp_class = smtplib.SMTP_SSL if _flag(config.get("MAIL_USE_SSL")) else smtplib.SMTP
        with smtp_class(
            config["MAIL_SERVER"], int(config.get("MAIL_PORT") or 25), timeout=TIMEOUT_S
        ) as smtp:
            if _flag(config.get("MAIL_USE_TLS")):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
            smtp.send_message(msg)
    # Every SMTPException is an OSError: the specific answers first.
    except smtplib.SMTPRecipientsRefused as err:
        codes = [code for code, _ in err.recipients.values()]
        temporary = all(400 <= code < 500 for code in codes)
        raise TransportError(
            f"recipient refused ({', '.join(map(str, codes))})",
            permanent=not temporary,
            gone=not temporary,
            status=codes[0] if codes else None,
        ) from None
    except smtplib.SMTPResponseException as err:
        raise TransportError(
            f"SMTP {err.smtp_code}", permanent=err.smtp_code >= 500, status=err.smtp_code
        ) from None
    except OSError as err:  # refused, timed out, disconnected, unknown host
        raise TransportError(type(err).__name__, permanent=False) from None


def _flag(value) -> bool:
    return str(value).lower() in ("1", "true", "yes", "on")


def _write_eml(msg: EmailMessage, folder: Path) -> Path:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = f"{time.strftime('%Y%m%dT%H%M%S')}-{msg['Message-ID'].strip('<>')}.eml"
    path = folder / name.replace("@", "_at_")
    path.write_bytes(msg.as_bytes(policy=msg.policy.clone(linesep="\r\n")))
    path.chmod(0o600)
    return path
