"""A short note to one person through an email channel's transport: the workflow's notifications
(an item waits for your approval, yours was approved or sent back).

It is not a newsletter: one recipient, plain text, no list, no unsubscribe link (the person is told
because publish.yml names them in ``workflow.people``), and marked ``Auto-Submitted: auto-generated``
(RFC 3834 §5) so that auto-responders do not answer it. The transport is the channel's own (its SMTP
server and login, or its outbox folder), so nothing new needs setting up.
"""
from __future__ import annotations

import email.charset
import email.utils
import hashlib
from email.mime.text import MIMEText

from ..base import DeliveryContext, Failure, Receipt
from .message import SENT, Lost, Unusable


def _readable_utf8() -> email.charset.Charset:
    """UTF-8 in quoted-printable: a note stays readable in the raw message (an outbox's ``.eml``, a
    server log), where the default base64 turns every line into noise."""
    charset = email.charset.Charset("utf-8")
    charset.body_encoding = email.charset.QP
    return charset


def note_message(sender: str, name: str, address: str, subject: str, text: str, key: str):
    message = MIMEText(text, "plain", _readable_utf8())
    message["From"] = sender
    message["To"] = email.utils.formataddr((name, address))
    message["Subject"] = subject
    message["Date"] = email.utils.formatdate(usegmt=True)
    domain = email.utils.parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    # One Message-ID per note and recipient: a copy that did get through twice is one message to mail clients.
    message["Message-ID"] = f"<{hashlib.sha256(f'{key}|{address}'.encode()).hexdigest()[:32]}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    return message


def send_note(channel, name: str, address: str, subject: str, text: str, ctx: DeliveryContext,
              in_flight=None) -> Receipt | Failure:
    """Mail ``text`` to ``address`` through ``channel`` (an ``Email`` adapter). A failure says whether
    it may have arrived (``ambiguous``): the connection broke after the message was sent."""
    sender = channel.options.get("from") or ""
    message = note_message(sender, name, address, subject, text, ctx.key)
    if ctx.dry_run:
        return Receipt(remote_id=message["Message-ID"], url=None, at=ctx.now, data={"dry_run": True})
    try:
        transport = channel._transport()
        with transport.session() as session:
            state, detail = session.send(email.utils.parseaddr(sender)[1], address, message,
                                         f"note-{hashlib.sha256(ctx.key.encode()).hexdigest()[:16]}", in_flight)
    except Unusable as exc:
        return Failure(str(exc), retryable=exc.retryable)
    except Lost as exc:
        return Failure(str(exc), retryable=True, ambiguous=exc.uncertain)
    if state != SENT:
        return Failure(f"the mail server did not take the note to {address}: {detail}", retryable=state != "refused")
    return Receipt(remote_id=message["Message-ID"], url=None, at=ctx.now, data={"to": address})
