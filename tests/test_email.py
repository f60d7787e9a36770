"""The email channel against a real SMTP server on loopback (aiosmtpd) and the outbox folder."""
from __future__ import annotations

import email
import json
import email.policy
import re
import ssl
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

import pytest

import mailserver
from channels.base import Journal, DeliveryContext, Failure, Post, Receipt
from channels.email.channel import Email
from channels.email.message import recipient_hash, unsubscribe_token
from newsroom import schema as s
from newsroom.audience import load_audience, parse_audience
from newsroom.model import ChannelConfig

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=timezone.utc)
KEY = "autumn-release/newsletter"

ALL = """\
email,name,unsubscribed
ana@customers.example,Ana Lima,
ben@customers.example,Ben Okafor,
chloe@customers.example,Chloé Martin,
dev@customers.example,Dev Patel,yes
not-an-address,Broken Line,
erin@customers.example,Erin Walsh,
"""
SMB = "email,name\nana@customers.example,Ana Lima\nchloe@customers.example,Chloé Martin\n"
ENTERPRISE = "email,name\nben@customers.example,Ben Okafor\nana@customers.example,Ana Lima\n"


def many(n: int) -> str:
    return "email,name\n" + "".join(f"reader{i}@customers.example,Reader {i}\n" for i in range(n))


def make_email(root: Path, env: dict | None = None, **options) -> Email:
    values = {k.name: (k.default() if callable(k.default) else k.default) for k in Email.OPTIONS.keys}
    values.update({"from": "Northwind Notes <news@northwind.example>", "reply_to": "team@northwind.example",
                   "unsubscribe_url": "https://news.northwind.example/unsubscribe?token={token}",
                   "lists": {"all": "audience/all.csv", "smb": "audience/smb.csv",
                             "enterprise": "audience/enterprise.csv"}})
    values.update(options)
    channel = Email(ChannelConfig(name="newsletter", type="email", options=values), env or {})
    return channel.bind(read_list=partial(load_audience, root), outbox=root / "outbox")


@pytest.fixture
def root(tmp_path):
    (tmp_path / "audience").mkdir()
    for name, text in (("all", ALL), ("smb", SMB), ("enterprise", ENTERPRISE)):
        (tmp_path / "audience" / f"{name}.csv").write_text(text, encoding="utf-8")
    return tmp_path


def post(**kw) -> Post:
    base = dict(channel="newsletter", type="email", item_id="autumn-release", item_path="content/2026/11/autumn-release.md",
                revision="r1", title="The autumn release", url="https://news.northwind.example/autumn-release/",
                subject="The autumn release is here", html="<h1>Autumn</h1><p>Reorder points &amp; more.</p>",
                text="Autumn\n\nReorder points & more.\n")
    base.update(kw)
    return Post(**base)


def variants_post() -> Post:
    return post(data={"variants": [
        {"segment": "smb", "subject": "For small teams", "html": "<p>Small teams</p>", "text": "Small teams\n"},
        {"segment": "enterprise", "subject": "For enterprises", "html": "<p>Enterprises</p>", "text": "Enterprises\n"},
    ]})


class Recorded:
    """A journal as the ledger keeps it: every put recorded, replayed into the next run's Journal."""

    def __init__(self, kill_on: str | None = None):
        self.values: dict = {}
        self.kill_on = kill_on

    def write(self, key, value):
        if key == self.kill_on:
            raise KeyboardInterrupt(f"killed before writing {key}")
        self.values[key] = value

    def journal(self) -> Journal:
        return Journal(dict(self.values), on_write=self.write)


def context(recorded: Recorded | None = None, sleeps: list | None = None, **kw) -> DeliveryContext:
    recorded = recorded or Recorded()
    return DeliveryContext(key=KEY, now=NOW, journal=recorded.journal(),
                           sleep=(sleeps.append if sleeps is not None else (lambda s: None)), **kw)


def eml_files(root: Path) -> list[Path]:
    return sorted((root / "outbox").rglob("*.eml"))


# -- lists --------------------------------------------------------------------------------------

def test_list_keeps_valid_addresses_and_reports_the_rest_by_line():
    audience = parse_audience(ALL + "ana@customers.example,Ana again,\n", "audience/all.csv")
    assert [r.address for r in audience.recipients] == ["ana@customers.example", "ben@customers.example",
                                                        "chloe@customers.example", "erin@customers.example"]
    assert audience.unsubscribed == 1 and audience.duplicates == 1
    assert [str(p) for p in audience.problems] == [
        "audience/all.csv:6: email: 'not-an-address' is not an email address (expected name@example.com); "
        "the line is skipped until it is fixed",
        "audience/all.csv:8: email: the address is listed twice; it gets one message",
    ]
    assert audience.invalid == ["audience/all.csv:6", "audience/all.csv:8"]


def test_list_without_email_column_and_missing_file(tmp_path):
    assert [str(p) for p in parse_audience("mail,name\nx@y.example,X\n", "a.csv").problems] == [
        "a.csv:1: no 'email' column in the header row (expected: email,name,unsubscribed)"]
    assert [str(p) for p in load_audience(tmp_path, "audience/none.csv").problems] == [
        "audience/none.csv: the recipient list does not exist (check channels.<name>.lists in publish.yml)"]


# -- the outbox (no SMTP host: the embedded default) --------------------------------------------

def test_outbox_writes_one_eml_per_recipient_with_one_click_unsubscribe(root):
    channel = make_email(root)
    result = channel.deliver(post(), context())
    assert isinstance(result, Receipt), result
    (tally,) = result.data["campaigns"]
    assert (tally["sent"], tally["unsubscribed"], tally["invalid"], tally["pending"]) == (4, 1, ["audience/all.csv:6"], 0)
    files = eml_files(root)
    assert len(files) == 4
    messages = [email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in files]
    to = sorted(m["To"].addresses[0].addr_spec for m in messages)
    assert to == ["ana@customers.example", "ben@customers.example", "chloe@customers.example", "erin@customers.example"]
    assert len({m["Message-ID"] for m in messages}) == 4
    for m in messages:
        address = m["To"].addresses[0].addr_spec
        assert m["From"] == "Northwind Notes <news@northwind.example>"
        assert m["Subject"] == "The autumn release is here"
        assert m["Reply-To"] == "team@northwind.example"
        assert re.fullmatch(r"<[^@<>]+@northwind\.example>", m["Message-ID"])
        assert m["Date"] == "Fri, 27 Nov 2026 08:00:00 +0000"
        token = unsubscribe_token(address, None, channel.list_id)
        assert m["List-Unsubscribe"] == f"<https://news.northwind.example/unsubscribe?token={token}>"
        assert address.split("@")[0] not in m["List-Unsubscribe"]
        assert m["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert m["List-Id"] == "newsletter <newsletter.northwind.example>"
        assert m.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in m.iter_parts()] == ["text/plain", "text/html"]
        text, html = (m.get_body((kind,)).get_content().replace("\r\n", "\n") for kind in ("plain", "html"))
        assert text.startswith("Autumn\n\nReorder points & more.") and f"token={token}" in text
        assert "<h1>Autumn</h1>" in html and f'href="https://news.northwind.example/unsubscribe?token={token}"' in html
        assert "<style" not in html  # inline styles only
    chloe = next(m for m in messages if "chloe" in str(m["To"]))
    assert chloe["To"].addresses[0].display_name == "Chloé Martin"


def test_outbox_second_run_writes_nothing_new(root):
    channel, recorded = make_email(root), Recorded()
    first = channel.deliver(post(), context(recorded))
    for f in eml_files(root):
        f.unlink()
    second = channel.deliver(post(), context(recorded))
    assert eml_files(root) == []
    assert second.data["campaigns"] == first.data["campaigns"]
    assert channel.reconcile(post(), context(recorded)).data["campaigns"][0]["sent"] == 4


def test_unsubscribe_token_is_an_hmac_when_a_key_is_set(root):
    channel = make_email(root, env={"UNSUB_KEY": "k3y"}, unsubscribe_key=s.SecretRef("UNSUB_KEY"))
    channel.deliver(post(), context())
    import hashlib
    import hmac
    expected = hmac.new(b"k3y", b"ana@customers.example", hashlib.sha256).hexdigest()[:32]
    headers = [email.message_from_bytes(f.read_bytes(), policy=email.policy.default)["List-Unsubscribe"]
               for f in eml_files(root)]
    assert f"<https://news.northwind.example/unsubscribe?token={expected}>" in headers


def test_dry_run_builds_every_message_and_sends_none(root):
    recorded = Recorded()
    result = make_email(root).deliver(post(), context(recorded, dry_run=True))
    assert result.data["dry_run"] is True and result.data["campaigns"][0]["pending"] == 4
    assert eml_files(root) == [] and recorded.values == {}


def test_unbound_channel_and_unknown_segment_are_clear_failures(root):
    unbound = Email(make_email(root).config, {})
    assert unbound.deliver(post(), context()) == Failure(
        "channel 'newsletter' was not given its recipient lists (the publish run binds them)")
    assert make_email(root).deliver(post(segment="vip"), context()) == Failure(
        "no recipient list for segment 'vip': add it under channels.newsletter.lists in publish.yml, or define it by a rule under segments")
    bad = make_email(root, unsubscribe_url="http://news.northwind.example/u")
    assert bad.deliver(post(), context()).message == (
        "channels.newsletter.unsubscribe_url must be an https URL containing {token} "
        "(RFC 8058 one-click unsubscribe needs one per recipient)")


# -- SMTP on loopback ---------------------------------------------------------------------------

@pytest.fixture
def smtp():
    started = []

    def run(mailbox: mailserver.Mailbox | None = None, **kwargs):
        mailbox = mailbox or mailserver.Mailbox()
        controller = mailserver.start(mailbox, **kwargs)
        started.append(controller)
        return mailbox, controller.port

    yield run
    for controller in started:
        controller.stop()


def smtp_email(root, port, **options):
    return make_email(root, host="127.0.0.1", port=port, security=options.pop("security", "none"), **options)


def test_segments_each_get_their_variant_and_nobody_gets_two(root, smtp):
    box, port = smtp()
    result = smtp_email(root, port).deliver(variants_post(), context())
    assert isinstance(result, Receipt), result
    got = {m["To"].addresses[0].addr_spec: m["Subject"] for m in box.parsed()}
    assert got == {"ana@customers.example": "For small teams", "chloe@customers.example": "For small teams",
                   "ben@customers.example": "For enterprises"}
    smb, enterprise = result.data["campaigns"]
    assert (smb["segment"], smb["sent"], enterprise["sent"], enterprise["other_segment"]) == ("smb", 2, 1, 1)
    assert all(frm == "news@northwind.example" for frm, _, _ in box.messages)


def test_batches_are_paced_at_the_configured_rate(root, smtp):
    (root / "audience" / "all.csv").write_text(many(5))
    box, port = smtp()
    sleeps, recorded = [], Recorded()
    result = smtp_email(root, port, batch_size=2, rate=30).deliver(post(), context(recorded, sleeps))
    assert result.data["campaigns"][0]["sent"] == 5 and len(box.messages) == 5
    assert sleeps == [4.0, 4.0]  # 2 messages at 30 a minute, between batches, none after the last
    assert sorted(k for k in recorded.values) == ["all/0", "all/0/at", "all/0/done", "all/1", "all/1/at", "all/1/done",
                                                  "all/2", "all/2/at", "all/2/done"]
    # each message's answer was journaled as it came: the last one of the last batch
    assert recorded.values["all/2/at"] == {"handled": 1, "in_flight": False, "refused": [], "retry": []}
    assert all("@" not in str(v) for v in recorded.values.values())  # the ledger never holds an address


def test_refused_recipients_are_not_retried_and_deferred_ones_are(root, smtp):
    box, port = smtp(mailserver.Mailbox(refuse={"ben@customers.example"}, defer={"chloe@customers.example"}))
    channel, recorded = smtp_email(root, port), Recorded()
    first = channel.deliver(post(), context(recorded))
    assert first == Failure("1 recipient(s) were deferred by the mail server; the next run sends to them",
                            retryable=True, partial=first.partial)
    assert (first.partial[0]["sent"], first.partial[0]["refused"], first.partial[0]["retry"]) == (2, 1, 1)
    second = channel.deliver(post(), context(recorded))
    assert isinstance(second, Receipt), second
    assert sorted(box.recipients()) == ["ana@customers.example", "chloe@customers.example", "erin@customers.example"]
    assert (second.data["campaigns"][0]["sent"], second.data["campaigns"][0]["refused"]) == (3, 1)


@pytest.mark.parametrize("drop_at, uncertain", [("data", 1), ("rcpt", 0)])
def test_connection_dropped_mid_batch_then_next_run_completes_without_duplicates(root, smtp, drop_at, uncertain):
    (root / "audience" / "all.csv").write_text(many(7))
    box, port = smtp(mailserver.Mailbox(drop_after=3, drop_at=drop_at))
    channel, recorded = smtp_email(root, port, batch_size=5), Recorded()
    first = channel.deliver(post(), context(recorded))
    assert isinstance(first, Failure) and first.retryable and not first.ambiguous
    assert first.message.startswith("the connection to the SMTP server broke: ")
    # batch 0 holds 5: 3 sent, the 4th broke (uncertain after DATA, retried after RCPT), the 5th and batch 1 wait
    assert first.message.endswith(f"({4 - uncertain} recipient(s) left for the next run)")
    assert len(box.messages) == 3
    second = channel.deliver(post(), context(recorded))
    delivered = box.recipients()
    assert len(delivered) == len(set(delivered)) == 7 - uncertain
    if uncertain:  # the message in flight is never counted as sent, nor sent again: a person settles it
        assert second == Failure("1 recipient uncertain: resolve", unresolved=True, partial=second.partial)
        tally = second.partial[0]
    else:
        assert isinstance(second, Receipt), second
        tally = second.data["campaigns"][0]
    assert (tally["sent"], tally["uncertain"], tally["pending"]) == (7 - uncertain, uncertain, 0)


def test_run_killed_after_sending_a_batch_never_sends_it_again(root, smtp):
    (root / "audience" / "all.csv").write_text(many(6))
    box, port = smtp()
    channel = smtp_email(root, port, batch_size=2)
    recorded = Recorded(kill_on="all/1/done")
    with pytest.raises(KeyboardInterrupt):
        channel.deliver(post(), context(recorded))
    assert len(box.messages) == 4  # batch 1 went out, its outcome was never written
    recorded.kill_on = None
    assert channel.reconcile(post(), context(recorded)) is None  # two are left: deliver resumes
    second = channel.deliver(post(), context(recorded))
    delivered = box.recipients()
    assert len(delivered) == len(set(delivered)) == 6
    tally = second.data["campaigns"][0]
    # each message's answer was journaled as it came: nobody of the unfinished batch is uncertain
    assert (tally["sent"], tally["uncertain"]) == (6, 0)
    assert isinstance(channel.reconcile(post(), context(recorded)), Receipt)


@pytest.mark.parametrize("kill_on, sent_first, uncertain", [
    ("all/0/at", 0, 0),  # killed before the first message's final "." went out: it is sent by the resume
    ("all/1", 2, 0),  # killed between two batches
])
def test_run_killed_inside_a_batch_resumes_with_exactly_those_not_answered(root, smtp, kill_on, sent_first, uncertain):
    (root / "audience" / "all.csv").write_text(many(5))
    box, port = smtp()
    channel = smtp_email(root, port, batch_size=2)
    recorded = Recorded(kill_on=kill_on)
    with pytest.raises(KeyboardInterrupt):
        channel.deliver(post(), context(recorded))
    assert len(box.messages) == sent_first
    recorded.kill_on = None
    assert channel.reconcile(post(), context(recorded)) is None
    second = channel.deliver(post(), context(recorded))
    assert isinstance(second, Receipt), second
    assert sorted(box.recipients()) == sorted(f"reader{i}@customers.example" for i in range(5))


def test_message_in_flight_at_a_kill_is_uncertain_and_a_person_settles_it(root, smtp):
    """The journal says message 2 of batch 0 was in flight (its "." sent, no answer read): only it
    is uncertain; the others of the batch are mailed once; ``resolve --not-sent`` mails it."""
    (root / "audience" / "all.csv").write_text(many(4))
    box, port = smtp()
    channel = smtp_email(root, port, batch_size=4)
    recorded = Recorded()
    hashes = [recipient_hash(f"reader{i}@customers.example", KEY) for i in range(4)]
    recorded.values.update({"all/0": {"to": hashes},
                            "all/0/at": {"handled": 1, "in_flight": True, "refused": [], "retry": []}})
    second = channel.deliver(post(), context(recorded))
    assert second == Failure("1 recipient uncertain: resolve", unresolved=True, partial=second.partial)
    assert sorted(box.recipients()) == ["reader2@customers.example", "reader3@customers.example"]
    assert (second.partial[0]["sent"], second.partial[0]["uncertain"]) == (3, 1)
    assert Email.resolution(recorded.values, sent=False) == {"resolved/0": {"not_sent": [hashes[1]]}}
    recorded.values.update(Email.resolution(recorded.values, sent=False))
    third = channel.deliver(post(), context(recorded))
    assert isinstance(third, Receipt), third
    assert box.recipients() == [f"reader{i}@customers.example" for i in (2, 3, 1)]
    assert Email.resolution(recorded.values, sent=True) == {}  # nobody is uncertain any more


def test_outbox_message_in_flight_at_a_kill_is_settled_by_its_file(root):
    (root / "audience" / "all.csv").write_text(many(3))
    channel, recorded = make_email(root), Recorded()
    hashes = [recipient_hash(f"reader{i}@customers.example", KEY) for i in range(3)]
    recorded.values.update({"all/0": {"to": hashes},
                            "all/0/at": {"handled": 0, "in_flight": True, "refused": [], "retry": []}})
    result = channel.deliver(post(), context(recorded))  # reader0's file was never renamed into place
    assert isinstance(result, Receipt) and result.data["campaigns"][0]["sent"] == 3
    assert len(eml_files(root)) == 3


def test_server_answering_4xx_to_every_command_defers_everyone(root, smtp):
    box, port = smtp(mailserver.Mailbox(defer={"ana@customers.example", "ben@customers.example",
                                               "chloe@customers.example", "erin@customers.example"}))
    result = smtp_email(root, port).deliver(post(), context())
    assert isinstance(result, Failure) and result.retryable and result.partial[0]["retry"] == 4
    assert box.messages == []


def test_no_server_listening_is_a_retryable_failure(root):
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    recorded = Recorded()
    channel = smtp_email(root, port)
    result = channel.deliver(post(), context(recorded))
    assert result.retryable and result.message.startswith(f"cannot connect to the SMTP server 127.0.0.1:{port}: ")
    assert channel.reconcile(post(), context(recorded)) is None  # nobody was handled: all retry


# -- TLS ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    made = mailserver.self_signed(tmp_path_factory.mktemp("tls"))
    if made is None:
        pytest.skip("openssl is not installed")
    return made


def server_tls(cert) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*map(str, cert))
    return context


def trusting(cert) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert[0]))


ENV = {"SMTP_USER": "newsroom", "SMTP_PASSWORD": "s3cret-pass"}
LOGIN = {"username": s.SecretRef("SMTP_USER"), "password": s.SecretRef("SMTP_PASSWORD")}


def test_starttls_with_login_from_the_environment(root, smtp, cert):
    box = mailserver.Mailbox()
    _, port = smtp(box, tls_context=server_tls(cert), require_starttls=True, auth_require_tls=True,
                   authenticator=mailserver.authenticator("newsroom", "s3cret-pass", box))
    channel = smtp_email(root, port, security="starttls", **LOGIN)
    channel.env = ENV
    channel.tls_context = trusting(cert)
    result = channel.deliver(post(), context())
    assert isinstance(result, Receipt), result
    assert box.logins == ["newsroom"] and len(box.messages) == 4


def test_wrong_password_is_refused_without_showing_it(root, smtp, cert):
    box = mailserver.Mailbox()
    _, port = smtp(box, tls_context=server_tls(cert), require_starttls=True,
                   authenticator=mailserver.authenticator("newsroom", "another", box))
    channel = smtp_email(root, port, security="starttls", **LOGIN)
    channel.env = ENV
    channel.tls_context = trusting(cert)
    result = channel.deliver(post(), context())
    assert (result.message, result.retryable) == (
        f"the SMTP server 127.0.0.1:{port} refused the login: 535 5.7.8 Authentication credentials invalid", False)
    assert "s3cret" not in result.message and box.messages == []


def test_implicit_tls(root, smtp, cert):
    box, port = smtp(ssl_context=server_tls(cert))
    channel = smtp_email(root, port, security="ssl")
    channel.tls_context = trusting(cert)
    assert isinstance(channel.deliver(post(), context()), Receipt)
    assert len(box.messages) == 4


def test_untrusted_certificate_is_refused_for_good(root, smtp, cert):
    box, port = smtp(tls_context=server_tls(cert), require_starttls=True)
    result = smtp_email(root, port, security="starttls").deliver(post(), context())
    assert not result.retryable
    assert result.message.startswith(f"the SMTP server 127.0.0.1:{port} presented a certificate that is not trusted: ")
    assert box.messages == []


def test_server_without_starttls_is_not_used_in_clear(root, smtp):
    box, port = smtp()
    result = smtp_email(root, port, security="starttls").deliver(post(), context())
    assert (result.message, result.retryable) == (f"the SMTP server 127.0.0.1:{port} does not offer STARTTLS "
                                                  "(set security: ssl, or none for a trusted local relay)", False)


class RefusingSender(mailserver.Mailbox):
    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        return "553 5.7.1 <%s>: Sender address rejected: not owned by user" % address


def test_refused_sender_stops_the_run_and_keeps_everyone_for_later(root, smtp):
    box, port = smtp(RefusingSender())
    channel, recorded = smtp_email(root, port), Recorded()
    result = channel.deliver(post(), context(recorded))
    assert (result.message, result.retryable) == (
        "the SMTP server refused the sender news@northwind.example: "
        "553 5.7.1 <news@northwind.example>: Sender address rejected: not owned by user", False)
    assert channel.reconcile(post(), context(recorded)) is None  # all four still to send


def test_unwritable_outbox_is_a_failure_not_a_traceback(root):
    (root / "outbox").write_text("a file where the folder should be")
    result = make_email(root).deliver(post(), context())
    assert result.message.startswith(f"cannot write to the outbox {root / 'outbox'}: ")


def test_style_blocks_are_inlined_and_text_only_posts_get_an_html_part(root):
    styled = post(html="<html><head><style>p { color: #336699 }</style></head><body><p>Hi</p></body></html>",
                  data={"variants": [{"segment": "smb", "subject": "Plain", "text": "Line one\nline <two>\n\nNext"}]})
    make_email(root).deliver(styled, context())
    (path, _) = eml_files(root)
    html = email.message_from_bytes(path.read_bytes(), policy=email.policy.default).get_body(("html",)).get_content()
    html = html.replace("\r\n", "\n")
    assert "<p>Line one<br>line &lt;two&gt;</p>\n<p>Next</p>" in html
    make_email(root).deliver(post(html=styled.html), DeliveryContext(key="other", now=NOW))
    inlined = [f for f in eml_files(root) if "/all/" in f.as_posix()][0]
    html = email.message_from_bytes(inlined.read_bytes(), policy=email.policy.default).get_body(("html",)).get_content()
    assert '<p style="color: #336699;">Hi</p>' in html and "<style" not in html


def test_password_is_never_sent_in_clear_to_a_remote_relay(root):
    channel = make_email(root, host="relay.example.net", security="none", **LOGIN)
    channel.env = ENV
    result = channel.deliver(post(), context())
    assert (result.message, result.retryable) == (
        "refusing to send the SMTP password over an unencrypted connection (set security: starttls or ssl)", False)


def test_421_service_closing_leaves_the_rest_for_the_next_run(root, smtp):
    box, port = smtp(mailserver.ClosingMailbox(close_after=2))
    channel, recorded = smtp_email(root, port), Recorded()
    first = channel.deliver(post(), context(recorded))
    assert first.retryable and first.message == (
        "the server closed the session: 421 4.3.2 Service shutting down, closing transmission channel "
        "(2 recipient(s) left for the next run)")
    second = channel.deliver(post(), context(recorded))
    assert isinstance(second, Receipt) and second.data["campaigns"][0]["sent"] == 4
    assert sorted(box.recipients()) == ["ana@customers.example", "ben@customers.example", "chloe@customers.example",
                                        "erin@customers.example"]


def test_a_refusal_that_echoes_the_login_does_not_show_it(root, smtp, cert):
    _, port = smtp(tls_context=server_tls(cert), require_starttls=True, authenticator=mailserver.echoing_authenticator)
    channel = smtp_email(root, port, security="starttls", **LOGIN)
    channel.env = ENV
    channel.tls_context = trusting(cert)
    result = channel.deliver(post(), context())
    assert result.message == f"the SMTP server 127.0.0.1:{port} refused the login: 535 5.7.8 Authentication failed for [login]"


def test_check_names_a_bad_unsubscribe_url_and_sender_in_publish_yml(project, cli):
    root = project(settings="""\
        site:
          title: T
          url: https://news.test
        channels:
          newsletter:
            type: email
            from: Newsroom
            unsubscribe_url: http://news.test/unsubscribe
          letters:
            type: email
            from: news@news.test
            unsubscribe_url: https://news.test/unsubscribe
        """)
    result = cli(root, "check", "--format", "json")
    errors = [f"{e['path']}:{e['line']}: {e['key']}: {e['message']}" for e in json.loads(result.output)["errors"]]
    assert errors == [
        "publish.yml:7: channels.newsletter.from: 'Newsroom' is not a sender address (use e.g. 'Acme News <news@acme.example>')",
        "publish.yml:8: channels.newsletter.unsubscribe_url: 'http://news.test/unsubscribe' must start with https:// "
        "(RFC 8058: one-click unsubscribe needs HTTPS)",
        "publish.yml:12: channels.letters.unsubscribe_url: 'https://news.test/unsubscribe' has no {token}: put it where "
        "each recipient's token goes, e.g. https://example.com/unsubscribe?token={token}",
    ]
    assert result.exit_code == 1
