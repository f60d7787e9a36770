"""SMTP for the ``email`` channel (``message.py`` builds the messages): SMTP with STARTTLS (RFC 3207)
or implicit TLS, login from the environment. Each message goes MAIL FROM / RCPT TO / DATA on one
connection per batch, so every recipient's outcome is known on its own: sent (250), refused for good
(5xx), deferred (4xx), or — when the connection breaks after the message's final ``.`` went out but
before the server answered — *uncertain*: the server may have queued it, so it is never sent again.

A module of its own so that only a run that sends imports smtplib and ssl.
"""
from __future__ import annotations

import smtplib
import socket
import ssl
from contextlib import contextmanager
from typing import TYPE_CHECKING

from .message import DEFERRED, REFUSED, SENT, SMTP_TIMEOUT, Lost, Unusable, as_bytes

if TYPE_CHECKING:
    from email.message import Message


class _Tracking:
    """Remembers whether the current message's final ``CRLF.CRLF`` has been written to the socket:
    a break after that point leaves the message's fate unknown."""

    data_sent = False
    before_dot = None  # called just before the final CRLF.CRLF goes out: the journal marks it in flight

    def send(self, s):  # noqa: D401 - smtplib's own name
        final = isinstance(s, (bytes, bytearray)) and s.endswith(b"\r\n.\r\n")
        if final and self.before_dot is not None:
            self.before_dot()
        super().send(s)
        if final:
            self.data_sent = True


class _SMTP(_Tracking, smtplib.SMTP):
    pass


class _SMTPSSL(_Tracking, smtplib.SMTP_SSL):
    pass


def _classify(code: int, reply: bytes | str) -> tuple[str, str]:
    detail = f"{code} {_text(reply)}".strip()
    return (DEFERRED if 400 <= code < 500 else REFUSED), detail


class SMTPTransport:
    """Sends over SMTP. ``security``: starttls, ssl or none. Secrets are never put in a message."""

    def __init__(self, host: str, port: int | None, security: str, username: str | None, password: str | None,
                 tls_context: ssl.SSLContext | None = None, timeout: float = SMTP_TIMEOUT,
                 local_hostname: str | None = None):
        self.host, self.security = host, security
        self.port = port or {"ssl": 465, "starttls": 587}.get(security, 25)
        self.username, self.password = username, password
        self.tls_context = tls_context
        self.timeout = timeout
        self.local_hostname = local_hostname
        self.rate_limited = True
        self.idempotent = False  # a message sent twice reaches its reader twice

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def landed(self, name: str) -> bool | None:
        """SMTP cannot tell whether a message in flight when a run died was queued: None."""
        return None

    @contextmanager
    def session(self):
        smtp = self._connect()
        try:
            yield _SMTPSession(smtp)
        finally:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()

    def _connect(self):
        if self.username and self.security == "none" and self.host not in ("127.0.0.1", "::1", "localhost"):
            raise Unusable("refusing to send the SMTP password over an unencrypted connection "
                           "(set security: starttls or ssl)")
        if self.security != "none" and self.tls_context is None:
            self.tls_context = ssl.create_default_context()  # once: loading the system's CAs takes time
        context = self.tls_context
        helo = self.local_hostname or "localhost"
        try:
            if self.security == "ssl":
                smtp = _SMTPSSL(self.host, self.port, local_hostname=helo, timeout=self.timeout, context=context)
                smtp.ehlo()  # smtplib's mail() does not greet by itself (only sendmail() does)
            else:
                smtp = _SMTP(self.host, self.port, local_hostname=helo, timeout=self.timeout)
                smtp.ehlo()
                if self.security == "starttls":
                    if not smtp.has_extn("starttls"):
                        smtp.close()
                        raise Unusable(f"the SMTP server {self.where} does not offer STARTTLS "
                                       "(set security: ssl, or none for a trusted local relay)")
                    smtp.starttls(context=context)
                    smtp.ehlo()
        except ssl.SSLCertVerificationError as exc:
            raise Unusable(f"the SMTP server {self.where} presented a certificate that is not trusted: "
                           f"{exc.verify_message}") from None
        except (smtplib.SMTPException, OSError) as exc:
            # no SMTP session, so no message: surely not sent, retried (never "uncertain")
            raise Unusable(f"cannot connect to the SMTP server {self.where}: {_describe(exc)} (nothing was sent)",
                           retryable=True) from None
        if self.username:
            try:
                smtp.login(self.username, self.password or "")
            except smtplib.SMTPAuthenticationError as exc:
                smtp.close()
                raise Unusable(self._scrub(f"the SMTP server {self.where} refused the login: "
                                           f"{exc.smtp_code} {_text(exc.smtp_error)}")) from None
            except smtplib.SMTPNotSupportedError:
                smtp.close()
                raise Unusable(f"the SMTP server {self.where} does not offer a login (AUTH); "
                               "remove username and password") from None
            except (smtplib.SMTPException, OSError) as exc:
                smtp.close()
                raise Unusable(self._scrub(f"login to the SMTP server {self.where} failed: {_describe(exc)}"),
                               retryable=True) from None
        return smtp

    def _scrub(self, text: str) -> str:
        """A server may echo the login in its answer: never let it (or the password) reach a message."""
        for secret, label in ((self.password, "[password]"), (self.username, "[login]")):
            if secret and len(secret) > 1:
                text = text.replace(secret, label)
        return text


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    if isinstance(exc, socket.timeout):
        return "no answer in time"
    return str(exc) or type(exc).__name__


class _SMTPSession:
    def __init__(self, smtp):
        self.smtp = smtp

    def send(self, sender: str, address: str, message: Message, name: str,
             in_flight=None) -> tuple[str, str]:
        """(sent | refused | deferred, the server's words). Raises ``Lost`` when the connection breaks.

        ``in_flight()`` is called just before the message's final ``.`` is written: from then until
        the server's answer, the message's fate is unknown if the run dies."""
        smtp = self.smtp
        smtp.data_sent = False
        smtp.before_dot = in_flight
        try:
            code, reply = smtp.mail(sender)
            if code == 421:
                raise Lost(f"the server closed the session: {code} {_text(reply)}", uncertain=False)
            if code != 250:
                smtp.rset()
                state, detail = _classify(code, reply)
                if state == REFUSED:  # the sender, not this recipient, is refused: nobody can be sent to
                    raise Unusable(f"the SMTP server refused the sender {sender}: {detail}")
                return state, detail
            code, reply = smtp.rcpt(address)
            if code == 421:
                raise Lost(f"the server closed the session: {code} {_text(reply)}", uncertain=False)
            if code not in (250, 251):
                smtp.rset()
                return _classify(code, reply)
            code, reply = smtp.data(as_bytes(message))
            if code == 250:
                return SENT, ""
            if code == 421:
                raise Lost(f"the server closed the session: {code} {_text(reply)}", uncertain=False)
            return _classify(code, reply)
        except smtplib.SMTPDataError as exc:  # DATA itself refused (no 354)
            try:
                smtp.rset()
            except (smtplib.SMTPException, OSError):
                pass
            return _classify(exc.smtp_code, exc.smtp_error)
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise Lost(f"the connection to the SMTP server broke: {_describe(exc)}", uncertain=smtp.data_sent) from None
