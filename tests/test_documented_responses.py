"""Answers copied from the platforms' own documentation, served as they are, read as the adapters
should read them: the Graph API's error example (developers.facebook.com/docs/graph-api/guides/
error-handling), Threads' container status examples (documentation/threads/troubleshooting) and
delete answer (posts/delete-posts), and Hashnode's error examples (Hashnode/gql-skill
errors-and-limits.md)."""
from __future__ import annotations

from channels.base import Failure, Journal, Receipt, Removal
from channels.hashnode import Hashnode
from channels.threads import Threads
from tests.servers import channel, context, post
from tests.servers.hashnode import PUBLICATION, TOKEN, HashnodeServer
from tests.servers.threads import ThreadsServer

#: developers.facebook.com/docs/graph-api/guides/error-handling, "Error Responses"
GRAPH_ERROR = {"error": {"message": "Message describing the error", "type": "OAuthException", "code": 190,
                         "error_subcode": 460, "error_user_title": "A title", "error_user_msg": "A message",
                         "fbtrace_id": "EJplcsCHuLu"}}
#: documentation/threads/troubleshooting, "Example Response" and "Example Response (in case of error)"
STATUS_FINISHED = {"status": "FINISHED", "id": "17889615691921648"}
STATUS_ERROR = {"status": "ERROR", "id": "17889615691921648", "error_message": "FAILED_DOWNLOADING_VIDEO"}
#: documentation/threads/posts/delete-posts, "Example Response"
DELETED = {"success": True, "deleted_id": "1234567"}
#: Hashnode/gql-skill skills/gql-api/references/errors-and-limits.md
HASHNODE_NOT_FOUND = {"errors": [{"message": "Post not found", "extensions": {"code": "NOT_FOUND"}, "path": ["post"]}]}
HASHNODE_PRO = {"errors": [{"message": "Publication does not have an active Pro plan. Upgrade in your dashboard to "
                                       "access this via the API.", "extensions": {"code": "FORBIDDEN"}}]}


def threads(server):
    return channel(Threads, server, {"token": "env:T"}, {"T": "threads-token"})


def test_the_graph_error_example_is_a_refused_token_in_metas_words():
    with ThreadsServer() as server:
        server.fail(400, GRAPH_ERROR)
        failed = threads(server).deliver(post(["x"], type="threads"), context())
    assert failed == Failure("HTTP 400: Message describing the error: A message (code 190/460): the access token "
                             "expired or was revoked; run `publish auth threads` to check or renew it", status=400,
                             credential="T")


def test_the_container_status_examples():
    with ThreadsServer() as server:
        journal = Journal()
        journal.put("container:0", "17889615691921648")
        server.fail(200, STATUS_ERROR, path="/17889615691921648$")
        server.fail(200, STATUS_FINISHED, path="/17889615691921648$")
        server.containers["17889615691921648"] = {"id": "17889615691921648", "status": "FINISHED",
                                                 "error_message": "", "form": {"media_type": "TEXT", "text": "x"},
                                                 "asked": 0}
        # ERROR: never published, so a new container is made and published
        receipt = threads(server).deliver(post(["x"], type="threads"), context(journal=journal))
        assert isinstance(receipt, Receipt) and journal.get("container:0") != "17889615691921648"
        # FINISHED: the container in the journal is published as it is
        journal2 = Journal()
        journal2.put("container:0", "17889615691921648")
        again = threads(server).deliver(post(["x"], type="threads"), context(journal=journal2))
        assert isinstance(again, Receipt)
        assert server.requests("/threads_publish$")[-1].form == [("creation_id", "17889615691921648")]


def test_the_delete_example_is_a_removal():
    with ThreadsServer() as server:
        server.fail(200, DELETED, path="/1234567$")
        removed = threads(server).delete(Receipt("1234567", None, context().now), context())
    assert isinstance(removed, Removal) and not removed.already


def test_hashnode_error_examples():
    with HashnodeServer() as server:
        a = channel(Hashnode, server, {"publication_id": PUBLICATION, "token": "env:H"}, {"H": TOKEN})
        server.fail(200, HASHNODE_NOT_FOUND)
        gone = a.delete(Receipt("6749aaaaaaaaaaaaaaaaaaaa", None, context().now), context())
        assert isinstance(gone, Removal) and gone.already and gone.data == {"note": "NOT_FOUND: Post not found"}
        server.fail(200, HASHNODE_PRO)
        refused = a.deliver(post([], type="hashnode", data={"title": "T", "body": "B"}), context())
    assert refused.message == ("FORBIDDEN: Publication does not have an active Pro plan. Upgrade in your dashboard "
                               "to access this via the API.") and not refused.retryable
