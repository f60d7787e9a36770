"""Mail for the ``email`` channel: one message built per recipient, and two ways to hand it over.

- ``SMTPTransport`` (``smtp.py``): SMTP with STARTTLS (RFC 3207) or implicit TLS, login from the
  environment; every recipient's outcome known on its own, and a message whose fate a broken
  connection leaves unknown is *uncertain*, never sent again.
- ``OutboxTransport``: no server; each message becomes an ``.eml`` file in the outbox folder the
  publish run hands over (the embedded default of a fresh clone).

Headers follow RFC 8058 (one-click unsubscribe: ``List-Unsubscribe`` with one HTTPS URI and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click``, https://www.rfc-editor.org/rfc/rfc8058#section-3.1),
RFC 2919 (``List-Id``) and RFC 5322 (a unique ``Message-ID`` from ``email.utils.make_msgid``).
Note RFC 8058 §4 also asks for a DKIM signature covering both List-Unsubscribe headers: that is the
sending relay's job (it holds the domain key), not ours.
"""
from __future__ import annotations

import email.utils
import hashlib
import hmac
import html as htmlmod
import os
import re
import tempfile
from contextlib import contextmanager
from datetime import datetime, timezone
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from ..fields import Filler

if TYPE_CHECKING:
    from email.message import Message

# The MIME classes, the wire policy and smtplib (``smtp.py``) are imported when a message is built or
# sent: every command on a project with a newsletter imports this module, and most send nothing.

#: Where a template puts the recipient's own unsubscribe link; without it a footer carries the link.
UNSUBSCRIBE_TAG = "%unsubscribe_url%"
SMTP_TIMEOUT = 30  # seconds for connect and each reply

SENT, REFUSED, DEFERRED = "sent", "refused", "deferred"


class Lost(Exception):
    """The connection broke. ``uncertain``: the message in flight may have been accepted."""

    def __init__(self, message: str, uncertain: bool):
        super().__init__(message)
        self.uncertain = uncertain


class Unusable(Exception):
    """The transport cannot be used at all (login refused, no STARTTLS, certificate not trusted).

    ``retryable``: a later run may succeed (the server is down), as opposed to a setting to fix."""

    def __init__(self, message: str, retryable: bool = False):
        super().__init__(message)
        self.retryable = retryable


# -- tokens -------------------------------------------------------------------------------------

def unsubscribe_token(address: str, key: str | None, list_id: str) -> str:
    """The recipient's token for the unsubscribe URL: never the address itself.

    With a key: HMAC-SHA256(key, lowercased address), 32 hex digits; the endpoint recomputes it for
    its subscribers to find who asked. Without a key: SHA-256 of ``list_id`` + the lowercased
    address (stable, but anyone who knows an address can compute it: set ``unsubscribe_key``)."""
    folded = address.strip().lower().encode()
    if key:
        return hmac.new(key.encode(), folded, hashlib.sha256).hexdigest()[:32]
    return hashlib.sha256(list_id.encode() + b"\0" + folded).hexdigest()[:32]


def recipient_hash(address: str, salt: str) -> str:
    """How the ledger names a recipient: 16 hex digits of SHA-256(salt + address), no address kept."""
    return hashlib.sha256(salt.encode() + b"\0" + address.strip().lower().encode()).hexdigest()[:16]


# -- messages -----------------------------------------------------------------------------------

_SHELL = """<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title}</title></head>
<body style="margin:0;padding:0;background:#f4f4f4;">
<div style="max-width:600px;margin:0 auto;padding:24px;background:#ffffff;font-family:Helvetica,Arial,sans-serif;font-size:16px;line-height:1.5;color:#222222;">
{body}
</div>
</body></html>
"""
_FOOTER_HTML = ('<p style="margin-top:32px;font-size:12px;color:#777777;">You receive this because you '
                'subscribed to {list_name}. <a href="{url}" style="color:#777777;">Unsubscribe</a>.</p>')
_FOOTER_TEXT = "\n\n--\nYou receive this because you subscribed to {list_name}.\nUnsubscribe: {url}\n"


def html_to_text(html: str) -> str:
    """A plain-text stand-in when a post has only HTML: tags dropped, entities decoded."""
    text = re.sub(r"(?is)<(script|style)\b.*?</\1>", "", html)
    text = re.sub(r"(?i)<br\s*/?>|</p>|</h[1-6]>|</li>", "\n", text)
    text = re.sub(r"<[^>]+>", "", text)
    return re.sub(r"\n{3,}", "\n\n", htmlmod.unescape(text)).strip() + "\n"


def email_html(html: str, *, url: str, list_name: str, title: str, lang: str = "en") -> str:
    """The HTML part: a fragment wrapped in a simple shell (inline styles only: many mail clients drop
    ``<style>``, so a template's style block is inlined), the unsubscribe link put in place of
    ``%unsubscribe_url%`` or added as a footer."""
    safe_url = htmlmod.escape(url, quote=True)
    if UNSUBSCRIBE_TAG in html:
        html = html.replace(UNSUBSCRIBE_TAG, safe_url)
    else:
        footer = _FOOTER_HTML.format(url=safe_url, list_name=htmlmod.escape(list_name))
        html = re.sub(r"(?i)</body>", footer + "</body>", html, count=1) if re.search(r"(?i)</body>", html) \
            else html + "\n" + footer
    if not re.search(r"(?i)<html\b", html):
        html = _SHELL.format(lang=htmlmod.escape(lang), title=htmlmod.escape(title), body=html)
    if re.search(r"(?i)<style\b", html):
        # A template's <style> block becomes style="" attributes: Gmail and Outlook drop or mangle
        # <style> in many cases. Remote stylesheets are never fetched.
        import css_inline

        html = css_inline.CSSInliner(load_remote_stylesheets=False).inline(html)
    return html


def text_to_html(text: str) -> str:
    """An HTML part for a post that has only text: paragraphs and line breaks, everything escaped."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p]
    return "\n".join(f"<p>{htmlmod.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)


def email_text(text: str, *, url: str, list_name: str) -> str:
    if UNSUBSCRIBE_TAG in text:
        return text.replace(UNSUBSCRIBE_TAG, url)
    return text.rstrip("\n") + _FOOTER_TEXT.format(url=url, list_name=list_name)


@dataclass(frozen=True)
class Prepared:
    """A campaign's bodies, built once: the unsubscribe link is still ``%unsubscribe_url%`` and each
    recipient field still a mark (``channels/fields.py``), split once so each message is a join."""

    subject: str
    text: str
    html: str

    @property
    def fillers(self) -> tuple[Filler, Filler, Filler]:
        found = self.__dict__.get("_fillers")
        if found is None:
            found = (Filler.of(self.subject), Filler.of(self.text), Filler.of(self.html))
            object.__setattr__(self, "_fillers", found)
        return found


def prepare(subject: str, text: str, html: str, *, list_name: str, url_pattern: str = "", lang: str = "en") -> Prepared:
    """``url_pattern``: the configured unsubscribe URL with ``{token}`` still in it. The email templates
    write it as it is (``{{ channel.options.unsubscribe_url }}``); it becomes the recipient's own link
    just like ``%unsubscribe_url%``."""
    if url_pattern:
        text = text.replace(url_pattern, UNSUBSCRIBE_TAG)
        html = html.replace(htmlmod.escape(url_pattern, quote=True), UNSUBSCRIBE_TAG).replace(url_pattern, UNSUBSCRIBE_TAG)
    return Prepared(subject, email_text(text, url=UNSUBSCRIBE_TAG, list_name=list_name),
                    email_html(html, url=UNSUBSCRIBE_TAG, list_name=list_name, title=subject, lang=lang))


@lru_cache(maxsize=1)
def _qp():
    import email.charset

    charset = email.charset.Charset("utf-8")
    charset.body_encoding = email.charset.QP  # readable in an .eml file, unlike base64
    return charset


def build_message(prepared: Prepared, *, sender: str, to_address: str, to_name: str, unsubscribe_url: str,
                  list_id: str, list_name: str, date: datetime, reply_to: str | None = None,
                  fields: dict[str, str] | None = None) -> Message:
    """One recipient's message: multipart/alternative, plain text first (RFC 2046 §5.1.4: the last
    part is the preferred one). ``fields``: the recipient's columns, filled where the campaign's
    subject and bodies use ``recipient.<column>`` (escaped in the HTML part, on one line in the subject).

    Built with the ``compat32`` MIME classes: ``email.policy.default`` parses every header through
    its header registry and took ~20 ms a message, too slow for a list of thousands."""
    from email.mime.multipart import MIMEMultipart
    from email.mime.text import MIMEText

    msg = MIMEMultipart("alternative")
    msg["From"] = sender
    msg["To"] = email.utils.formataddr((to_name, to_address), charset="utf-8") if to_name else to_address
    subject, text, html = prepared.fillers
    values = fields or {}
    msg["Subject"] = subject.fill(values, "header")  # non-ASCII becomes an RFC 2047 encoded word when written
    msg["Date"] = email.utils.format_datetime(date if date.tzinfo else date.replace(tzinfo=timezone.utc))
    domain = email.utils.parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    # With a domain, make_msgid does not ask the resolver for this machine's name (slow, and it leaks it).
    msg["Message-ID"] = email.utils.make_msgid(domain=domain)
    if reply_to:
        msg["Reply-To"] = reply_to
    msg["List-Id"] = f"{list_name} <{list_id}>"
    msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.attach(MIMEText(text.fill(values).replace(UNSUBSCRIBE_TAG, unsubscribe_url), "plain", _qp()))
    msg.attach(MIMEText(html.fill(values, "html").replace(UNSUBSCRIBE_TAG, htmlmod.escape(unsubscribe_url, quote=True)),
                        "html", _qp()))
    return msg


def as_bytes(message: Message) -> bytes:
    """The message as SMTP wants it: CRLF line ends."""
    return message.as_bytes(policy=_wire())


@lru_cache(maxsize=1)
def _wire():
    import email.policy

    class _Wire(email.policy.Compat32):
        """compat32 with CRLF, and the one-click URL never folded: RFC 8058 receivers read it as written."""

        def _fold(self, name, value, sanitize):
            if name.lower() == "list-unsubscribe" and isinstance(value, str) and value.isascii():
                return f"{name}: {value}{self.linesep}"
            return super()._fold(name, value, sanitize)

    return _Wire(linesep="\r\n")


# -- transports ---------------------------------------------------------------------------------

class OutboxTransport:
    """Writes each message as ``<folder>/<name>.eml`` (atomically: a killed run leaves no half file)."""

    rate_limited = False
    idempotent = True  # one file per recipient, written by an atomic rename: writing it again changes nothing

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    @property
    def where(self) -> str:
        return str(self.folder)

    @contextmanager
    def session(self):
        yield self

    def landed(self, name: str) -> bool:
        """Whether a message marked in flight when a run died was written (the rename is atomic)."""
        return (self.folder / f"{name}.eml").is_file()

    def send(self, sender: str, address: str, message: Message, name: str,
             in_flight=None) -> tuple[str, str]:
        target = self.folder / f"{name}.eml"
        tmp = None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                fh.write(as_bytes(message))
            if in_flight is not None:
                in_flight()
            os.replace(tmp, target)
        except OSError as exc:
            if tmp and os.path.exists(tmp):
                os.unlink(tmp)
            raise Unusable(f"cannot write to the outbox {self.folder}: {exc.strerror or exc}") from None
        return SENT, ""
