"""LinkedIn: versioned headers, x-restli-id, little-text escaping, image upload, read-back, statistics."""
from __future__ import annotations

import pytest

from channels.base import Failure, Journal, Receipt
from channels.linkedin import LinkedIn, little_text
from channels.social import MetricsError
from tests.servers import NOW, PNG, channel, context, image, post
from tests.servers.linkedin import LinkedInServer

ENV = {"LI_TOKEN": "li-token"}
ORG = "urn:li:organization:2414183"


@pytest.fixture
def server():
    with LinkedInServer() as srv:
        yield srv


def adapter(server, author=ORG, env=ENV):
    return channel(LinkedIn, server, {"token": "env:LI_TOKEN", "author": author, "version": "202411"}, env)


def test_little_text_escapes_reserved_characters():
    assert little_text("Launch (v2) #ship @team_a *now* ~ [x] {y} <z> | \\") == \
        "Launch \\(v2\\) \\#ship \\@team\\_a \\*now\\* \\~ \\[x\\] \\{y\\} \\<z\\> \\| \\\\"


def test_post_with_image_sends_versioned_headers_and_reads_x_restli_id(server, tmp_path):
    text = "Launch day (finally) #news — café 🚀"
    receipt = adapter(server).deliver(post([text], type="linkedin", media=[image(tmp_path)]), context())
    assert not isinstance(receipt, Failure), receipt
    sent = server.requests("^/rest/posts$", "POST")[0]
    assert sent.headers["linkedin-version"] == "202411" and sent.headers["x-restli-protocol-version"] == "2.0.0"
    assert sent.json["commentary"] == "Launch day \\(finally\\) \\#news — café 🚀"
    assert sent.json["author"] == ORG and sent.json["lifecycleState"] == "PUBLISHED"
    assert sent.json["distribution"] == {"feedDistribution": "MAIN_FEED", "targetEntities": [],
                                         "thirdPartyDistributionChannels": []}
    image_urn = sent.json["content"]["media"]["id"]
    assert sent.json["content"]["media"]["altText"] == "A rocket on the launch pad"
    assert server.images[image_urn.rsplit(":", 1)[1]] == PNG
    assert server.requests("/rest/images")[0].json == {"initializeUploadRequest": {"owner": ORG}}
    assert receipt.remote_id == server.posts[0]["id"]
    assert receipt.url == f"https://www.linkedin.com/feed/update/{receipt.remote_id}/"


def test_unknown_outcome_is_read_back(server):
    journal = Journal()
    server.drop("^/rest/posts$", times=1)
    a = adapter(server)
    assert a.deliver(post(["Hello (world)"], type="linkedin"), context(journal=journal)).ambiguous
    again = a.deliver(post(["Hello (world)"], type="linkedin"), context(journal=journal))
    assert again.remote_id == server.posts[0]["id"] and len(server.posts) == 1
    assert a.reconcile(post(["Hello (world)"], type="linkedin"), context()).remote_id == again.remote_id


def test_errors_carry_linkedin_words(server):
    failed = adapter(server, env={"LI_TOKEN": "expired"}).deliver(post(["x"], type="linkedin"), context())
    assert failed == Failure("HTTP 401: Invalid access token", status=401)


def test_share_statistics_for_an_organization(server):
    urns = [f"urn:li:share:{i}" for i in range(1, 2000)] + ["urn:li:ugcPost:99"]
    server.statistics["urn:li:share:3"] = {"impressionCount": 120, "likeCount": 7, "shareCount": 2,
                                           "commentCount": 1, "clickCount": 9}
    a = adapter(server)
    got = a.fetch_metrics([Receipt(u, None, NOW) for u in urns])
    assert len(server.requests("organizationalEntityShareStatistics")) == 100  # 2,000 posts, 20 per call
    assert got["urn:li:share:3"] == {"impressions": 120, "likes": 7, "shares": 2, "replies": 1, "clicks": 9}
    assert "urn:li:ugcPost:99" in got and len(got) == 2000
    assert adapter(server, author="urn:li:person:abc").fetch_metrics([Receipt(urns[0], None, NOW)]) == {}


def test_statistics_error(server):
    with pytest.raises(MetricsError, match="^linkedin: HTTP 401: Invalid access token$"):
        adapter(server, env={"LI_TOKEN": "x"}).fetch_metrics([Receipt("urn:li:share:1", None, NOW)])
