"""A real SMTP server on loopback (aiosmtpd) for the email tests, with the faults a relay shows.

``Mailbox`` keeps every accepted message; ``refuse`` answers 550 at RCPT, ``defer`` answers 451 at
RCPT once per address, ``delay`` waits that long after queueing a message before answering 250 (a
slow relay), ``drop_after=n`` closes the connection when message n+1 arrives — at ``drop_at="data"``
after the whole message was received (the client cannot know it was not queued), at ``"rcpt"``
before any data.
"""
from __future__ import annotations

import email
import email.policy
import shutil
import subprocess
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class LoopbackController(Controller):
    """aiosmtpd's Controller on port 0: learn the port the system chose before the readiness probe."""

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class Mailbox:
    def __init__(self, refuse=(), defer=(), drop_after: int | None = None, drop_at: str = "data",
                 delay: float = 0.0):
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.delay = delay  # seconds between receiving a message and answering 250 (a slow relay)
        self.refuse, self.defer = set(refuse), set(defer)
        self.drop_after, self.drop_at = drop_after, drop_at
        self.logins: list[str] = []

    def _drop_now(self) -> bool:
        if self.drop_after is not None and len(self.messages) >= self.drop_after:
            self.drop_after = None  # once
            return True
        return False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        if address in self.defer:
            self.defer.discard(address)
            return "451 4.7.1 <%s>: Recipient address rejected: greylisted, try again later" % address
        if self.drop_at == "rcpt" and self._drop_now():
            server.transport.close()
            return "250 OK"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.drop_at == "data" and self._drop_now():
            server.transport.close()  # the message arrived; the answer never goes out
            return "250 OK"
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        if self.delay:  # queued, but the client hears so only later: a kill in between leaves it uncertain
            import asyncio

            await asyncio.sleep(self.delay)
        return "250 2.0.0 Ok: queued"

    def parsed(self):
        return [email.message_from_bytes(raw, policy=email.policy.default) for _, _, raw in self.messages]

    def recipients(self) -> list[str]:
        return [r for _, rcpts, _ in self.messages for r in rcpts]


def authenticator(user: str, password: str, mailbox: Mailbox):
    def check(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user \
            and auth_data.password.decode() == password
        if ok:
            mailbox.logins.append(user)
        return AuthResult(success=ok, handled=False)
    return check


def start(mailbox: Mailbox, **kwargs) -> LoopbackController:
    # server_hostname: otherwise every connection asks the resolver for this machine's name (slow here)
    controller = LoopbackController(mailbox, hostname="127.0.0.1", port=0, server_hostname="localhost", **kwargs)
    controller.start()
    return controller


def self_signed(folder: Path) -> tuple[Path, Path] | None:
    """A certificate for 127.0.0.1 made with the openssl command line; None when openssl is missing."""
    if not shutil.which("openssl"):
        return None
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    return cert, key


class ClosingMailbox(Mailbox):
    """Answers ``421`` (service closing) to MAIL once ``close_after`` messages were accepted."""

    def __init__(self, close_after: int, **kwargs):
        super().__init__(**kwargs)
        self.close_after = close_after

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.close_after is not None and len(self.messages) >= self.close_after:
            self.close_after = None
            return "421 4.3.2 Service shutting down, closing transmission channel"
        envelope.mail_from = address
        return "250 OK"




def echoing_authenticator(server, session, envelope, mechanism, auth_data):
    """A server whose refusal repeats the login it was given (some do)."""
    return AuthResult(success=False, handled=False, message=f"535 5.7.8 Authentication failed for {auth_data.login.decode()}")
