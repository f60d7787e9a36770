"""Corrections and withdrawals on Threads, Facebook Pages, Instagram, Ghost, WordPress and Hashnode
(``Channel.edit`` / ``Channel.delete``): each in place where the platform allows it, a post already
gone counting as removed (so a repeat after a crash succeeds), and a plain reason where it does not."""
from __future__ import annotations

import pytest

from channels.base import Failure, Receipt, Removal
from tests.contract_harnesses import HARNESSES
from tests.servers import context

BY_NAME = {h.name: h for h in HARNESSES}


@pytest.fixture
def h(request, tmp_path):
    harness = BY_NAME[request.param]
    with harness.server(tmp_path) as server:
        harness.bind(server, tmp_path)
        try:
            yield harness
        finally:
            harness.close()


@pytest.mark.parametrize("h", ["threads", "facebook", "ghost", "wordpress", "hashnode"], indirect=True)
def test_a_withdrawal_takes_the_post_down_and_a_repeat_finds_it_gone(h):
    receipt = h.adapter().deliver(h.post(), context())
    removed = h.adapter().delete(receipt, context())
    assert isinstance(removed, Removal) and not removed.already
    gone = h.adapter().delete(receipt, context())
    assert isinstance(gone, Removal) and gone.already
    if h.name == "wordpress":  # to the trash, where an editor can restore it
        assert h.published()[0]["status"] == "trash"
    else:
        assert h.published() == []


@pytest.mark.parametrize("h", ["facebook", "ghost", "wordpress", "hashnode"], indirect=True)
def test_a_correction_changes_the_post_in_place(h):
    receipt = h.adapter().deliver(h.post(), context())
    fixed = h.adapter().edit(h.post(title="Launch day, corrected"), receipt, context())
    assert isinstance(fixed, Receipt) and fixed.remote_id == receipt.remote_id and fixed.data["edited"]
    made = h.published()[0]
    text = {"facebook": lambda: made["message"], "ghost": lambda: made["title"],
            "wordpress": lambda: made["title"]["raw"], "hashnode": lambda: made["title"]}[h.name]()
    assert "corrected" in text and len(h.published()) == 1


@pytest.mark.parametrize("h", ["threads", "instagram"], indirect=True)
def test_what_the_api_cannot_change_is_said_plainly(h):
    receipt = h.adapter().deliver(h.post(), context())
    failed = h.adapter().edit(h.post(title="x"), receipt, context())
    assert isinstance(failed, Failure) and failed.message == f"{h.name}: {type(h.adapter()).CANNOT_EDIT}"
    if h.name == "instagram":
        assert h.adapter().delete(receipt, context()).message == (
            "instagram: the Instagram API cannot delete a published post: delete it in the app")


@pytest.mark.parametrize("h", ["ghost"], indirect=True)
def test_ghost_edits_with_the_updated_at_it_holds(h):
    receipt = h.adapter().deliver(h.post(), context())
    h.adapter().edit(h.post(title="Once"), receipt, context())
    h.adapter().edit(h.post(title="Twice"), receipt, context())  # a second edit reads the new updated_at
    assert h.published()[0]["title"] == "Twice 0"
    sent = [r.json["posts"][0] for r in h.server_.requests(r"/posts/[0-9a-f]+/$", "PUT")]
    assert sent[0]["updated_at"] != sent[1]["updated_at"] and "status" not in sent[0]


@pytest.mark.parametrize("h", ["threads"], indirect=True)
def test_a_threads_thread_is_withdrawn_last_part_first(h):
    from tests.servers import post

    receipt = h.adapter().deliver(post(["one", "two", "three"], type="threads"), context())
    assert isinstance(h.adapter().delete(receipt, context()), Removal) and h.published() == []
    deleted = [r.path.strip("/") for r in h.server_.requests(method="DELETE")]
    assert deleted == [p["id"] for p in reversed(receipt.parts)]
