"""Loopback stand-ins for the social platforms' APIs, and helpers to aim an adapter at one."""
from __future__ import annotations

from datetime import datetime, timezone

from channels.base import DeliveryContext, Journal, Media, Post
from newsroom.model import ChannelConfig
from newsroom.schema import SecretRef

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
#: a 1×1 PNG
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000b49444154789c"
                    "6360000200000500017a5eab3f0000000049454e44ae426082")


def channel(cls, server, options: dict, env: dict | None = None, name: str | None = None):
    """An adapter of ``cls`` configured with ``options`` (``env:NAME`` strings become secret refs)."""
    resolved = {k: SecretRef(v[4:]) if isinstance(v, str) and v.startswith("env:") else v for k, v in options.items()}
    config = ChannelConfig(name=name or cls.TYPE, type=cls.TYPE, options=resolved)
    return cls(config, env or {}, base_url=server.url if server is not None else None)


def post(parts, *, type="mastodon", media: list[Media] | None = None, url="https://news.test/launch/", **kw):
    return Post(channel=kw.pop("channel", type), type=type, item_id="2026/launch", item_path="content/launch.md",
                revision="abc123", title=kw.pop("title", "Launch day"), url=url, parts=list(parts),
                media=media or [], **kw)


def context(key="2026/launch|mastodon|abc123", journal: Journal | None = None, **kw) -> DeliveryContext:
    return DeliveryContext(key=key, now=NOW, journal=journal if journal is not None else Journal(),
                           sleep=kw.pop("sleep", lambda s: None), **kw)


def image(tmp_path, alt="A rocket on the launch pad") -> Media:
    path = tmp_path / "rocket.png"
    path.write_bytes(PNG)
    return Media(src="images/rocket.png", alt=alt, path=str(path))
