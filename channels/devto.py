"""DevTo channel (type ``devto``)."""
from __future__ import annotations

from datetime import timedelta

from newsroom import schema as s

from .base import Channel


class DevTo(Channel):
    TYPE = "devto"
    MEDIUM = "social"
    MAX_TAGS = 4
    METRICS_BATCH = 1000
    DEFAULT_GRACE = timedelta(days=1)
    SECRETS = ('api_key',)
    OPTIONS = s.Schema("devto options", [
        s.Key("api_key", s.Secret(), "dev.to API key, from the environment", required=True),
        s.Key("published", s.Boolean(), "publish at once (false: save as draft)", default=True),
        s.Key("organization_id", s.Integer(), "post under this organization"),
    ])
