"""LinkedIn channel (type ``linkedin``)."""
from __future__ import annotations

from datetime import timedelta

from newsroom import schema as s

from .base import Channel


class LinkedIn(Channel):
    TYPE = "linkedin"
    MEDIUM = "social"
    MAX_CHARS = 3000
    SUPPORTS_MEDIA = True
    SECRETS = ('token',)
    OPTIONS = s.Schema("linkedin options", [
        s.Key("token", s.Secret(), "OAuth access token with w_member_social or w_organization_social", required=True),
        s.Key("author", s.Text(pattern=r"^urn:li:(person|organization):", hint="is not a person or organization URN"),
              "author URN, e.g. urn:li:organization:123", required=True),
        s.Key("version", s.Text(pattern=r"^\d{6}$", hint="is not a YYYYMM version"), "LinkedIn-Version header", default="202411"),
    ])
