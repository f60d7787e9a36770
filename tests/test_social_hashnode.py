"""Hashnode: publishPost with tags and the canonical URL of a cross-post, the Pro-plan refusal,
numbers for many posts as aliases, comments with their replies, and `publish auth`."""
from __future__ import annotations

import pytest

from channels.auth import AuthError, Person, connect
from channels.base import Failure, Media, Receipt
from channels.hashnode import Hashnode
from tests.servers import NOW, channel, context, post
from tests.servers.hashnode import PUBLICATION, TOKEN, HashnodeServer

ENV = {"HASHNODE_TOKEN": TOKEN}


@pytest.fixture
def server():
    with HashnodeServer() as srv:
        yield srv


def adapter(server, env=ENV):
    return channel(Hashnode, server, {"publication_id": PUBLICATION, "token": "env:HASHNODE_TOKEN"}, env)


def article(**data):
    fields = {"title": "Shipping a GraphQL API", "body": "# Intro\n\nBody in **markdown**.",
              "tags": ["GraphQL", "Open Source"] + [f"t{i}" for i in range(20)],
              "canonical_url": "https://news.test/graphql/", **data}
    return post([], type="hashnode", title=fields["title"], data=fields,
                media=[Media("https://news.test/images/cover.png", "cover")])


def test_publish_post_with_tags_cover_and_original_article_url(server):
    receipt = adapter(server).deliver(article(), context())
    sent = server.requests("^/$")[0]
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    given = sent.json["variables"]["input"]
    assert given["publicationId"] == PUBLICATION and given["contentMarkdown"] == "# Intro\n\nBody in **markdown**."
    assert given["originalArticleURL"] == "https://news.test/graphql/"
    assert given["coverImage"] == "https://news.test/images/cover.png"
    assert given["tags"][:2] == [{"slug": "graphql", "name": "GraphQL"}, {"slug": "open-source", "name": "Open Source"}]
    assert len(given["tags"]) == 15
    assert receipt.url == "https://northwind.hashnode.dev/shipping-a-graphql-api"


def test_a_publication_not_on_pro_is_said_in_hashnodes_words(tmp_path):
    with HashnodeServer(pro=False) as server:
        failed = adapter(server).deliver(article(), context())
    assert failed == Failure("FORBIDDEN: Publication does not have an active Pro plan. Upgrade in your dashboard to "
                             "access this via the API.", status=200)


def test_numbers_for_many_posts_twenty_a_query(server):
    made = [adapter(server).deliver(article(title=f"Post {i}", canonical_url=f"https://news.test/{i}/"), context())
            for i in range(45)]
    server.numbers[made[30].remote_id] = {"views": 1200, "reactions": 40, "responses": 6}
    got = adapter(server).fetch_metrics(made + [Receipt("6749ffffffffffffffffffff", None, NOW)])
    assert len(server.requests("^/$")) == 45 + 3 and len(got) == 45
    assert got[made[30].remote_id] == {"views": 1200, "likes": 40, "replies": 6}


def person():
    return Person(say=lambda line: None, open_browser=lambda url: False, ask_secret=lambda q: "", show=False)


def test_publish_auth_checks_the_token(server):
    result = connect(adapter(server), person())
    assert result.lines[0] == "hashnode: the secret in HASHNODE_TOKEN works (@northwind)."
    with pytest.raises(AuthError) as exc:
        connect(adapter(server, env={"HASHNODE_TOKEN": "revoked"}), person())
    assert str(exc.value).startswith("hashnode: the secret in HASHNODE_TOKEN does not work: UNAUTHENTICATED: You must "
                                     "be authenticated to perform this action.")
