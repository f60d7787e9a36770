"""Google Analytics 4's Data API and Google's OAuth token endpoint on loopback.

- ``POST /token``: a service account's JWT assertion (RS256, checked against the key's public half;
  ``aud`` must be this endpoint, ``exp`` at most an hour after ``iat``) for an access token
  (https://developers.google.com/identity/protocols/oauth2/service-account#httprest); a bad
  signature is 400 ``{"error": "invalid_grant", "error_description": "Invalid JWT Signature."}``.
- ``POST /v1beta/properties/{id}:runReport``: ``pagePath`` × ``screenPageViews``/``totalUsers`` and
  ``landingPage`` × ``sessionSource``/``sessionMedium``/``sessionCampaignName``/
  ``sessionManualAdContent`` × ``sessions``, ``inListFilter`` dimension filters, ``limit`` (≤ 250,000)
  / ``offset`` with ``rowCount``; errors ``{"error": {"code", "message", "status"}}`` (401
  UNAUTHENTICATED, 403 PERMISSION_DENIED, 429 RESOURCE_EXHAUSTED past ``hourly_tokens``).
"""
from __future__ import annotations

import base64
import json
import secrets
from datetime import datetime, timedelta, timezone

from .analytics import Traffic
from .base import Answer, Seen

DIMENSIONS = {"pagePath": "page", "landingPage": "entry_page", "sessionSource": "utm_source",
              "sessionMedium": "utm_medium", "sessionCampaignName": "utm_campaign",
              "sessionManualAdContent": "utm_content"}
METRICS = {"screenPageViews": "pageviews", "totalUsers": "visitors", "sessions": "visits"}


def _unb64(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def service_account(token_uri: str, email="reports@newsroom-test.iam.gserviceaccount.com"):
    """(the JSON key a person downloads, its private key object) for a fresh RSA key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return {"type": "service_account", "project_id": "newsroom-test", "private_key_id": "k1", "private_key": pem,
            "client_email": email, "client_id": "1", "token_uri": token_uri}, private


class GA4Server(Traffic):
    routes = [("POST", r"/token", "token"), ("POST", r"/v1beta/properties/(?P<prop>[^/:]+):runReport", "run_report")]

    def __init__(self, prop="412345678", hourly_tokens=40_000):
        super().__init__()
        self.prop, self.hourly_tokens = prop, hourly_tokens
        self.key, self._private = service_account(self.url + "/token")
        self.tokens: set[str] = set()
        self.spent = 0

    def error(self, status, message, code=None):
        names = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                 429: "RESOURCE_EXHAUSTED"}
        return Answer(status, {"error": {"code": status, "message": message, "status": code or names.get(status, "INTERNAL")}})

    def token(self, seen: Seen):
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        form = dict(seen.form)
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return Answer(400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type"})
        try:
            head, body, sig = form.get("assertion", "").split(".")
            claims = json.loads(_unb64(body))
            self._private.public_key().verify(_unb64(sig), f"{head}.{body}".encode(), padding.PKCS1v15(),
                                              hashes.SHA256())
        except (ValueError, InvalidSignature):
            return Answer(400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
        if claims.get("aud") != self.url + "/token" or claims.get("iss") != self.key["client_email"] \
                or not 0 < claims.get("exp", 0) - claims.get("iat", 0) <= 3600 \
                or "analytics.readonly" not in claims.get("scope", ""):
            return Answer(400, {"error": "invalid_grant", "error_description": "Invalid JWT: claims"})
        token = "ya29." + secrets.token_urlsafe(16)
        self.tokens.add(token)
        return Answer(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    def run_report(self, seen: Seen, prop: str):
        auth = seen.headers.get("authorization", "")
        if auth.removeprefix("Bearer ") not in self.tokens:
            return self.error(401, "Request had invalid authentication credentials. Expected OAuth 2 access token, "
                                   "login cookie or other valid authentication credential.")
        if prop != self.prop:
            return self.error(403, "User does not have sufficient permissions for this property. To learn more about "
                                   "Property ID, see https://developers.google.com/analytics/devguides/reporting/data/"
                                   "v1/property-id.")
        with self.lock:
            self.spent += 10
            over = self.spent > self.hourly_tokens
        if over:
            return self.error(429, "Exhausted property tokens per hour for this project per property. Refresh in "
                                   "preferably an hour.")
        body = seen.json or {}
        try:
            (rng,) = body["dateRanges"]
            since = datetime.fromisoformat(rng["startDate"]).replace(tzinfo=timezone.utc)
            until = datetime.fromisoformat(rng["endDate"]).replace(tzinfo=timezone.utc) + timedelta(days=1)
            dims = [DIMENSIONS[d["name"]] for d in body.get("dimensions") or []]
            mets = [METRICS[m["name"]] for m in body["metrics"]]
        except (KeyError, ValueError, TypeError) as exc:
            return self.error(400, f"Invalid request: {exc}")
        limit, offset = int(body.get("limit") or 10_000), int(body.get("offset") or 0)
        if limit > 250_000:
            limit = 250_000
        rows = [p for p in self.between(since, until - timedelta(microseconds=1))]
        f = (body.get("dimensionFilter") or {}).get("filter")
        if f:
            values = set(f["inListFilter"]["values"])
            field = DIMENSIONS[f["fieldName"]]
            rows = [p for p in rows if p[field] in values]
        if "entry_page" in dims:
            rows = [p for p in rows if p["page"] == p["entry_page"]]  # one row per session: its landing
        groups = self.group(rows, lambda p: tuple(p[d] or "(not set)" for d in dims))
        out = [{"dimensionValues": [{"value": v} for v in key],
                "metricValues": [{"value": str(self.totals(ps)[m])} for m in mets]} for key, ps in groups.items()]
        out.sort(key=lambda r: (-int(r["metricValues"][0]["value"]), [v["value"] for v in r["dimensionValues"]]))
        return Answer(200, {"dimensionHeaders": [{"name": d["name"]} for d in body.get("dimensions") or []],
                            "metricHeaders": [{"name": m["name"], "type": "TYPE_INTEGER"} for m in body["metrics"]],
                            "rows": out[offset:offset + limit], "rowCount": len(out),
                            "metadata": {"currencyCode": "EUR", "timeZone": "Europe/Berlin"}, "kind": "analyticsData#runReport"})
