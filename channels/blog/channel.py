"""Blog channel (type ``blog``): a static site with feeds, rebuilt by the run that delivers to it.

Delivering an entry touches nothing: the receipt names the item's page URL. ``finish`` builds the
site once per run from every delivered blog entry (``channels.blog.site.build_site``), so only
delivered items ever appear.

What the publish run hands the adapter (it reads no settings file itself):

- ``config.options["site"]``: the ``newsroom.model.Site`` (title, url, language, description, author);
- ``config.options["site_dir"]``: the folder to build in; a relative one is resolved against
  ``config.options["root"]`` (the project root). ``prepare(config, settings)`` sets all three from
  publish.yml (``output.site`` unless the channel names its own ``site_dir``);
- ``config.options["static_dirs"]``: [[folder, name, shown as], …], the folders of the ``static``
  option found under the content folder, copied into the site as ``name/…`` (problems name the
  files by ``shown as``, the folder relative to the project).
"""
from __future__ import annotations

import hashlib
import json
from datetime import timezone
from pathlib import Path
from typing import Any

from newsroom import schema as s
from newsroom.model import ChannelConfig, Settings, Site

from ..base import Channel, DeliveryContext, DeliveryResult, Failure, Post, Receipt, Removal
from .deploy import Deploy, cache_folder, deploy, describe
from .site import RESERVED, BuildReport, _page_path, build_site
from newsroom.atomic import write_atomic

#: Folders under the content folder copied into the site as they are (Pelican's STATIC_PATHS).
DEFAULT_STATIC = ("images",)


def prepare(config: ChannelConfig, settings: Settings) -> ChannelConfig:
    """Hand a blog channel what it needs from the loaded settings (the publish run calls this)."""
    config.options["site"] = settings.site
    config.options["root"] = str(settings.root)
    config.options["site_dir"] = config.options.get("site_dir") or settings.output.get("site") or "public"
    if "templates_dir" not in config.options and (Path(settings.root) / "templates" / "blog").is_dir():
        config.options["templates_dir"] = str(Path(settings.root) / "templates")
    content = Path(settings.root) / settings.content_dir
    names = config.options.get("static")
    config.options["static_dirs"] = [[str(content / name), name, f"{settings.content_dir}/{name}"] for name in
                                     (DEFAULT_STATIC if names is None else names) if (content / name).is_dir()]
    return config


class Blog(Channel):
    TYPE = "blog"
    MEDIUM = "blog"
    MAX_CHARS = None
    DEFAULT_GRACE = None  # a late blog post is still worth having: no staleness limit by default
    SECRETS = ()
    SUPPORTS_MEDIA = True
    SHOWS_SYNDICATION = True  # each page links to where else the item went ("also on")
    DELIVERS_IN_FINISH = True  # deliver() names the page; finish() builds and deploys the site
    OPTIONS = s.Schema("blog options", [
        s.Key("per_page", s.Integer(minimum=1), "items per index page", default=10),
        s.Key("feed_content", s.Choice("full", "summary"), "what the Atom and RSS feeds carry", default="full"),
        s.Key("feed_items", s.Integer(minimum=1), "how many items the feeds list", default=20),
        s.Key("site_dir", s.Text(), "folder the site is built in, relative to the project (default: output.site)"),
        s.Key("static", s.ListOf(s.Slug()), "folders under the content folder copied into the site as they are "
              "(images, downloads): content/images/a.png is served as /images/a.png", default=list(DEFAULT_STATIC)),
        s.Key("withdrawn_pages", s.Choice("notice", "remove"), "what stays at the address of a withdrawn or "
              "expired item: a 'this page was withdrawn' notice with its reason (noindex), or nothing (404)",
              default="notice"),
        s.Key("deploy", Deploy(), "where the built site goes live: git: REMOTE (and branch:, default gh-pages) "
              "pushes it to a branch, command: COMMAND runs your own (its exit code decides); required in CI"),
    ])
    #: An entry is recorded delivered only once ``finish`` has written (and deployed) the site holding it.
    RECORDS_AFTER_FINISH = True
    #: A correction rebuilds the page and feeds (Atom ``updated`` and the sitemap's ``lastmod`` move);
    #: a withdrawal takes the item out of the index, tag pages, feeds and sitemap (``withdrawn_pages``).
    EDITS = True
    DELETES = True

    last_report: BuildReport | None = None

    def prepare(self, settings: Settings) -> None:
        prepare(self.config, settings)

    # -- what the run hands in ----------------------------------------------------------------
    @property
    def site(self) -> Site:
        site = self.config.options.get("site")
        if isinstance(site, dict):
            site = Site(**site)
        if not isinstance(site, Site):
            # A wiring bug in the caller, not a user mistake: channels.blog.prepare() sets it.
            raise RuntimeError(f"blog channel '{self.name}': options['site'] was not set (call channels.blog.prepare)")
        return site

    @property
    def site_dir(self) -> Path:
        folder = self.config.options.get("site_dir")
        if not folder:
            raise RuntimeError(f"blog channel '{self.name}': options['site_dir'] was not set "
                               "(call channels.blog.prepare)")
        path = Path(folder)
        root = self.config.options.get("root")
        return path if path.is_absolute() or not root else Path(root) / path

    def build_options(self, ctx: DeliveryContext | None = None) -> dict[str, Any]:
        keys = ("per_page", "feed_content", "feed_items", "templates_dir", "static_dirs", "withdrawn_pages")
        out = {k: self.config.options[k] for k in keys if self.config.options.get(k) is not None}
        if ctx is not None and ctx.withdrawn:
            out["withdrawn"] = ctx.withdrawn
        root = self.config.options.get("root")
        if root:  # the files it rendered, kept for a build without the site folder (a CI runner)
            out["pages_cache"] = str(Path(root) / ".cache" / f"site-{self.name}")
        return out

    # -- delivery -----------------------------------------------------------------------------
    def page_url(self, post: Post) -> str:
        return f"{self.site.url.rstrip('/')}/{_page_path(post, self.site)}"

    def deliver(self, post: Post, ctx: DeliveryContext) -> DeliveryResult:
        """The page appears when ``finish`` builds the site; the receipt already names its URL."""
        path = _page_path(post, self.site)
        if path.split("/", 1)[0] in RESERVED | {entry[1] for entry in self.config.options.get("static_dirs") or ()}:
            return Failure(f"the blog page '{path}' would replace the site's own '{path.split('/', 1)[0]}'; "
                           "give the item another slug")
        return Receipt(remote_id=path, url=self.page_url(post), at=ctx.now.astimezone(timezone.utc))

    def reconcile(self, post: Post, ctx: DeliveryContext) -> Receipt | None:
        """Delivering the blog has no outside effect, so a run that died halfway simply delivers again."""
        return None

    def edit(self, post: Post, receipt: Receipt, ctx: DeliveryContext) -> Receipt | Failure:
        """The page changes when ``finish`` rebuilds the site; the receipt keeps its first time and
        says when it was corrected (the page's and feeds' ``updated``, the sitemap's ``lastmod``)."""
        return Receipt(remote_id=receipt.remote_id or _page_path(post, self.site), url=receipt.url or self.page_url(post),
                       at=receipt.at, data={**receipt.data, "updated": ctx.now.astimezone(timezone.utc).isoformat()})

    def delete(self, receipt: Receipt, ctx: DeliveryContext) -> Removal | Failure:
        """The page leaves the site when ``finish`` rebuilds it (``ctx.withdrawn``)."""
        return Removal(at=ctx.now, data={"path": receipt.remote_id})

    def unusable_in_ci(self) -> str | None:
        if self.config.options.get("deploy"):
            return None
        return (f"no deploy target: set channels.{self.name}.deploy (git: REMOTE, or command: COMMAND); the site "
                "built on a CI runner is thrown away with it")

    # -- the site is derived state --------------------------------------------------------------
    STAMP = ".newsroom-site.json"

    def digest(self, delivered: list[tuple[Post, Receipt]], ctx: DeliveryContext) -> str:
        """What the site must hold: every delivered entry's revision and page, and its "also on" links."""
        h = hashlib.sha256()
        for post, receipt in sorted(delivered, key=lambda d: d[0].item_id):
            links = sorted((x.get("channel") or "", x.get("url") or "") for x in ctx.syndication.get(post.item_id, ()))
            h.update(json.dumps([post.item_id, post.revision, receipt.url, links,
                                 receipt.data.get("updated")]).encode() + b"\n")
        h.update(json.dumps([ctx.withdrawn, self.config.options.get("withdrawn_pages")], sort_keys=True).encode())
        h.update(json.dumps(self.config.options.get("deploy") or {}, sort_keys=True, default=str).encode())
        return h.hexdigest()

    def current(self, digest: str) -> bool:
        """Whether the site on disk (and where it is deployed) was last made from exactly ``digest``."""
        try:
            stamp = json.loads((self.site_dir / self.STAMP).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return stamp.get("digest") == digest and (self.site_dir / "index.html").is_file()

    def finish(self, delivered: list[tuple[Post, Receipt]], ctx: DeliveryContext) -> BuildReport:
        """Build the site from ALL delivered blog entries (not only this run's) and the "also on" links,
        then deploy it; ``report.failed`` says what kept it from people (the run then records nothing)."""
        from newsroom import crashpoint

        site = self.site
        stamp = self.site_dir / self.STAMP
        if not ctx.dry_run:
            try:
                stamp.unlink()  # from here until the new stamp the site is not known to be current
            except FileNotFoundError:
                pass
        self.last_report = build_site(self.site_dir, site, delivered, ctx.syndication, self.build_options(ctx),
                                      dry_run=ctx.dry_run)
        crashpoint.reach("blog.built")
        spec = self.config.options.get("deploy")
        if spec and not ctx.dry_run:
            root = Path(self.config.options.get("root") or ".")
            failed = deploy(self.site_dir, spec, root=root, cache=cache_folder(root, self.name), env=self.env)
            if failed:
                self.last_report.failed = f"deploy ({describe(spec)}) failed: {failed}"
                return self.last_report
            crashpoint.reach("blog.deployed")
        if not ctx.dry_run:
            write_atomic(stamp, json.dumps({"digest": self.digest(delivered, ctx)}).encode("utf-8"))
        if ctx.progress:
            ctx.progress(self.last_report.summary())
        return self.last_report
