"""Email channel (type ``email``)."""
from __future__ import annotations

from datetime import timedelta

from newsroom import schema as s

from .base import Channel


class Email(Channel):
    TYPE = "email"
    MEDIUM = "email"
    DEFAULT_GRACE = timedelta(days=2)
    SECRETS = ('username', 'password')
    OPTIONS = s.Schema("email options", [
        s.Key("host", s.Text(), "SMTP server; without it messages are written as .eml files to the outbox"),
        s.Key("port", s.Integer(minimum=1, maximum=65535), "SMTP port (default 587 for starttls, 465 for ssl)"),
        s.Key("security", s.Choice("starttls", "ssl", "none"), "how the SMTP connection is protected", default="starttls"),
        s.Key("username", s.Secret(), "SMTP login, from the environment"),
        s.Key("password", s.Secret(), "SMTP password, from the environment"),
        s.Key("from", s.Text(), "sender, e.g. 'Acme News <news@acme.example>'", required=True),
        s.Key("reply_to", s.Text(), "Reply-To address"),
        s.Key("lists", s.MapOf(s.Text(), "mapping of segment → CSV path"),
              "recipients: segment name (or 'all') → CSV file with email, name, unsubscribed columns", default=dict),
        s.Key("unsubscribe_url", s.Url(), "one-click unsubscribe endpoint; {token} is replaced per recipient", required=True),
        s.Key("batch_size", s.Integer(minimum=1), "recipients per SMTP batch", default=50),
        s.Key("rate", s.Integer(minimum=1), "at most this many messages a minute", default=600),
    ])
