"""Google Analytics 4, the Data API's ``runReport``
(https://developers.google.com/analytics/devguides/reporting/data/v1/rest/v1beta/properties/runReport).

- Auth: a service account's JSON key (the ``token`` secret holds the file's contents) signs a JWT
  (RS256; ``iss`` = ``client_email``, ``scope`` analytics.readonly, ``aud`` = the key's
  ``token_uri``, ``exp`` at most an hour after ``iat``), exchanged at ``token_uri`` with
  ``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`` for an access token
  (https://developers.google.com/identity/protocols/oauth2/service-account#httprest). The token is
  kept for the pull and asked again only when it expires.
- ``POST /v1beta/properties/{id}:runReport`` with ``dateRanges`` (dates), ``dimensions``,
  ``metrics``, ``dimensionFilter``, ``limit`` (at most 250,000 rows a request) and ``offset``; the
  answer's ``rows`` hold ``dimensionValues``/``metricValues`` (values as strings) and ``rowCount``
  the total, for paging.
- Page views: ``pagePath`` × ``screenPageViews``, ``totalUsers``. Visits our links drove:
  ``landingPage`` × ``sessionSource``, ``sessionMedium``, ``sessionCampaignName``,
  ``sessionManualAdContent`` (utm_content) × ``sessions``, filtered to our sources.
- Errors: ``{"error": {"code", "message", "status"}}``; a spent quota is 429 ``RESOURCE_EXHAUSTED``
  (standard properties: 200,000 tokens a day, 40,000 an hour, 10 concurrent requests;
  https://developers.google.com/analytics/devguides/reporting/data/v1/quotas).
"""
from __future__ import annotations

import base64
import json
import time
from datetime import datetime, timezone

from channels.base import Failure

from .base import PageViews, Source, Visit, json_of, path_of

SCOPE = "https://www.googleapis.com/auth/analytics.readonly"
TOKEN_URI = "https://oauth2.googleapis.com/token"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def signed_jwt(key: dict, now: float) -> str:
    """The assertion a service account sends for a token (RS256 over header.claims)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    header = {"alg": "RS256", "typ": "JWT", "kid": key.get("private_key_id", "")}
    claims = {"iss": key["client_email"], "scope": SCOPE, "aud": key.get("token_uri") or TOKEN_URI,
              "iat": int(now), "exp": int(now) + 3600}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    private = serialization.load_pem_private_key(key["private_key"].encode(), password=None)
    signature = private.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"


class GA4(Source):
    TYPE = "ga4"
    DEFAULT_URL = "https://analyticsdata.googleapis.com"
    PAGE_SIZE = 250_000
    RATE_LIMIT = "GA4 standard property: 40,000 tokens an hour, 200,000 a day"
    DOCS = "https://developers.google.com/analytics/devguides/reporting/data/v1"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._token: tuple[str, float] | None = None
        self.now = time.time  # token lifetimes are real time

    def _access_token(self) -> str | Failure:
        if self._token and self._token[1] > self.now() + 60:
            return self._token[0]
        try:
            key = json.loads(self.secret() or "")
            assertion = signed_jwt(key, self.now())
        except (ValueError, KeyError, TypeError) as exc:
            ref = self.options.get("token")
            return Failure(f"the service account key in {getattr(ref, 'env', 'token')} is not a usable JSON key "
                           f"({type(exc).__name__})", retryable=False, status=401)
        got = self.send("POST", key.get("token_uri") or TOKEN_URI,
                        data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion})
        if isinstance(got, Failure):
            return got
        data, bad = json_of(got)
        if bad:
            return bad
        if not isinstance(data, dict) or not data.get("access_token"):
            return Failure("the token endpoint gave no access_token", retryable=False)
        self._token = (str(data["access_token"]), self.now() + float(data.get("expires_in") or 3600))
        return self._token[0]

    def _report(self, body: dict) -> list | Failure:
        rows: list = []
        offset = 0
        while True:
            token = self._access_token()
            if isinstance(token, Failure):
                return token
            got = self.send("POST", f"/v1beta/properties/{self.site_id}:runReport",
                            json={**body, "limit": self.PAGE_SIZE, "offset": offset},
                            headers={"Authorization": f"Bearer {token}"})
            if isinstance(got, Failure):
                return got
            data, bad = json_of(got)
            if bad:
                return bad
            page = (data.get("rows") or []) if isinstance(data, dict) else []
            rows.extend(page)
            total = int(data.get("rowCount") or 0) if isinstance(data, dict) else 0
            offset += self.PAGE_SIZE
            if not page or offset >= total:
                return rows

    @staticmethod
    def _dates(since: datetime, until: datetime) -> list[dict]:
        day = lambda m: m.astimezone(timezone.utc).date().isoformat()
        return [{"startDate": day(since), "endDate": day(until)}]

    def page_views(self, since: datetime, until: datetime) -> dict[str, PageViews] | Failure:
        rows = self._report({"dateRanges": self._dates(since, until), "dimensions": [{"name": "pagePath"}],
                             "metrics": [{"name": "screenPageViews"}, {"name": "totalUsers"}]})
        if isinstance(rows, Failure):
            return rows
        out: dict[str, PageViews] = {}
        for r in rows:
            try:
                path = path_of(r["dimensionValues"][0]["value"])
                views, users = (int(v["value"]) for v in r["metricValues"][:2])
            except (KeyError, TypeError, ValueError, IndexError):
                continue
            known = out.get(path)
            out[path] = PageViews(views + (known.views if known else 0), max(users, known.visitors if known else 0))
        return out

    def visits(self, since: datetime, until: datetime, sources: set[str]) -> list[Visit] | Failure:
        if not sources:
            return []
        rows = self._report({
            "dateRanges": self._dates(since, until),
            "dimensions": [{"name": n} for n in ("landingPage", "sessionSource", "sessionMedium",
                                                 "sessionCampaignName", "sessionManualAdContent")],
            "metrics": [{"name": "sessions"}],
            "dimensionFilter": {"filter": {"fieldName": "sessionSource",
                                           "inListFilter": {"values": sorted(sources), "caseSensitive": True}}}})
        if isinstance(rows, Failure):
            return rows
        out = []
        for r in rows:
            try:
                page, source, medium, campaign, content = (d["value"] for d in r["dimensionValues"])
                content = "" if content == "(not set)" else content
                out.append(Visit(path_of(page), source, medium, campaign, content, int(r["metricValues"][0]["value"])))
            except (KeyError, TypeError, ValueError, IndexError):
                continue
        return out
