"""Translations: one piece in several languages, each its own item with its own status and approval.

A translation is written beside its original with the language before the suffix
(``content/2026/12/launch.md`` and ``launch.de.md``), or anywhere with ``translation_of:`` naming
the original (its id or its path) and ``language:``. After every item is loaded, ``link`` ties each
translation to its original:

- the translation's ``id`` is the original's with the language (``launch.de``) and its ``slug`` the
  original's, unless it sets its own; ``publish_at``, ``expires_at``, ``campaign``, ``tags``,
  ``image``, ``segments`` and ``channels`` come from the original when it does not set them;
- channels bound to a language (``mastodon-de: {language: de}``) take only items in that language:
  the original leaves them to its translations; a translation inheriting its channels keeps the
  blog, the channels bound to its language and nothing else (the original's accounts and newsletter
  are the original's: the newsletter sends each recipient the translation in their ``language``);
- ``translated_from:`` records the original's text (``content_hash``) the translation was made
  from: ``check`` says when the original has changed since (and when it is not given).

A translation whose original cannot be found (it moved, or was renamed) is an error and nothing of
it goes out; so is a second translation into one language, or one into the original's language.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import replace

from .model import Item, Settings
from .problems import WARNING, Problem, did_you_mean

#: ISO 639-1 codes: ``launch.de.md`` is a translation, ``notes.js.md`` is not.
ISO_639_1 = frozenset("""
aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz
ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io
is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr
ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si
sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh
yi yo za zh zu""".split())
_SUFFIX = re.compile(r"^(?P<stem>.+)\.(?P<lang>[a-z]{2}(?:-[A-Za-z0-9]{2,8})?)$")
#: What a translation takes from its original when its own front matter does not say.
INHERITED = ("publish_at", "expires_at", "campaign", "tags", "image", "image_alt", "segments", "channels")


def suffix_language(rel: str) -> tuple[str, str] | None:
    """(the original's path, the language) when the file name says it is a translation
    (``launch.de.md`` → ``launch.md``, ``de``), else None."""
    folder, _, name = rel.rpartition("/")
    stem, dot, ext = name.rpartition(".")
    m = _SUFFIX.match(stem) if dot else None
    if m is None or m.group("lang").split("-")[0] not in ISO_639_1:
        return None
    original = f"{m.group('stem')}.{ext}"
    return (f"{folder}/{original}" if folder else original), m.group("lang")


def base_language(tag: str | None) -> str:
    """``de-AT`` → ``de``: what a recipient's or a channel's language is matched on first."""
    return (tag or "").strip().replace("_", "-").split("-")[0].lower()


def content_hash(item: Item) -> str:
    """The original's words (title, summary, body) as 12 hex digits: what ``translated_from`` records."""
    text = "\0".join((item.title, item.summary, item.body.strip()))
    return hashlib.blake2b(text.encode("utf-8"), digest_size=6).hexdigest()


def language_of(item: Item, settings: Settings) -> str:
    return item.language or settings.site.language or "en"


def bound_language(settings: Settings, channel: str) -> str | None:
    config = settings.channels.get(channel)
    language = config.options.get("language") if config is not None else None
    return language or getattr(config, "language", None)


def link(items: list[Item], settings: Settings, problems: list[Problem]) -> list[Item]:
    """The items with every translation tied to its original (see the module's help); translations
    that cannot be tied are left out, with an error."""
    bound_to = {name: bound_language(settings, name) for name in settings.channels}
    if not any(bound_to.values()) and not any(i.translation_of for i in items):
        return list(items)  # no translation, no channel bound to a language (most projects): nothing to tie
    by_id = {i.id: i for i in items if not i.translation_of}
    by_path = {i.path: i for i in items if not i.translation_of}
    out: list[Item] = []
    taken: dict[tuple[str, str], Item] = {}
    originals_languages: dict[str, set[str]] = {}
    translations: list[tuple[Item, Item]] = []
    for item in items:
        if not item.translation_of:
            out.append(item)
            continue
        wanted = item.translation_of
        explicit = item.doc is not None and "translation_of" in item.doc.lines
        original = by_id.get(wanted) or by_path.get(wanted)
        key = "translation_of" if explicit else "slug"
        line = item.line("translation_of") if explicit else 1
        if original is None:
            if explicit:
                why = f"no item with the id or path '{wanted}'{did_you_mean(wanted, list(by_id))}"
            else:
                why = f"its name makes it a translation of {wanted}, which does not exist"
            problems.append(Problem(item.path, line, key, f"{why}: did the original move? Point translation_of: at "
                                    "the original's id, or rename the file; nothing of it goes out until then"))
            continue
        language = item.language
        if not language:
            problems.append(Problem(item.path, item.line("translation_of"), "language",
                                    "a translation needs its language: add language: (e.g. de), or name the file "
                                    "<name>.<language>.md"))
            continue
        if base_language(language) == base_language(language_of(original, settings)):
            problems.append(Problem(item.path, item.line("language") or line, "language",
                                    f"is in {language}, the language of its original {original.path}; a translation "
                                    "is in another language"))
            continue
        other = taken.get((original.id, base_language(language)))
        if other is not None:
            problems.append(Problem(item.path, line, key, f"{original.path} already has a {language} translation: "
                                    f"{other.path}; keep one"))
            continue
        taken[(original.id, base_language(language))] = item
        translations.append((item, original))
        originals_languages.setdefault(original.id, set()).add(base_language(language))

    changed: dict[str, Item] = {}
    for i, item in enumerate(out):  # originals leave channels bound to another language to their translations
        if not any(bound_to.get(n) for n in item.channels):
            continue  # no channel of its is bound to a language (most items, most projects)
        channels = {n: o for n, o in item.channels.items()
                    if (bound := bound_to.get(n)) is None
                    or base_language(bound) == base_language(language_of(item, settings))}
        if len(channels) != len(item.channels):
            out[i] = changed[item.id] = replace(item, channels=channels)
        for name in item.channels:
            bound = bound_to.get(name)
            if bound and base_language(bound) != base_language(language_of(item, settings)) \
                    and base_language(bound) not in originals_languages.get(item.id, ()) \
                    and item.status in ("review", "approved"):
                problems.append(Problem(item.path, item.channels[name].line or item.line("channels"),
                                        f"channels.{name}", f"is bound to {bound}, and this item has no {bound} "
                                        f"translation: nothing goes there until one is written", WARNING))
    tied: dict[str, list[Item]] = {}
    for item, original in translations:
        tied.setdefault(original.id, []).append(_tied(item, original, settings, problems))
    # each original followed by its translations, by language: the calendar shows them together
    return [x for item in out for x in (item, *sorted(tied.get(item.id, ()), key=lambda t: t.language or ""))]


def _tied(item: Item, original: Item, settings: Settings, problems: list[Problem]) -> Item:
    own = set(item.doc.lines) if item.doc is not None else set()
    own = {k.split(".", 1)[0].split("[", 1)[0] for k in own}
    changes: dict = {"translation_of": original.id, "original_title": original.title}
    if "slug" not in own:
        changes["slug"] = original.slug
    if "id" not in own:
        changes["id"] = f"{original.id}.{base_language(item.language)}"
    for key in INHERITED:
        if key not in own:
            changes[key] = getattr(original, key)
    language = base_language(item.language)
    channels = changes.get("channels", item.channels)
    kept = {}
    for name, override in channels.items():
        bound = bound_language(settings, name)
        config = settings.channels.get(name)
        if bound is not None:
            if base_language(bound) == language:
                kept[name] = override
            elif "channels" in own:
                problems.append(Problem(item.path, override.line or item.line("channels"), f"channels.{name}",
                                        f"is bound to {bound}, and this translation is in {item.language}: "
                                        "nothing of it goes there", WARNING))
        elif "channels" in own or (config is not None and config.type == "blog"):
            kept[name] = override
    # an inherited after: may name a channel the translation does not take: it would wait for ever
    changes["channels"] = {name: o if all(a in kept for a in o.after) else
                           replace(o, after=tuple(a for a in o.after if a in kept)) for name, o in kept.items()}
    now = content_hash(original)
    made_from = item.translated_from
    if made_from is None:
        problems.append(Problem(item.path, 1, "translated_from", f"says not which text of {original.path} it "
                                f"translates: add translated_from: {now} (check then says when the original changes)",
                                WARNING))
    elif str(made_from) != now:
        problems.append(Problem(item.path, item.line("translated_from"), "translated_from",
                                f"the original {original.path} has changed since this translation was made "
                                f"({made_from}, now {now}): bring the translation up to date, then set "
                                f"translated_from: {now}", WARNING))
    return replace(item, **changes)


def translations_of(items: list[Item], original: Item) -> dict[str, Item]:
    """The original's translations by their base language."""
    return {base_language(i.language): i for i in _by_original(items).get(original.id, ())}


_INDEX: list = [None, -1, {}]  # [the items list, its length, original id → its translations]


def _by_original(items: list[Item]) -> dict[str, list[Item]]:
    """Translations by the id of their original, indexed once per list of items: every newsletter
    rendered asks for its item's, and scanning 10,000 items each time made rendering quadratic.
    (A project's items list is never edited in place: loading makes a new one.)"""
    if _INDEX[0] is not items or _INDEX[1] != len(items):
        index: dict[str, list[Item]] = {}
        for i in items:
            if i.translation_of:
                index.setdefault(i.translation_of, []).append(i)
        _INDEX[:] = [items, len(items), index]
    return _INDEX[2]


def original_of(items: list[Item], item: Item) -> Item | None:
    if not item.translation_of:
        return None
    return next((i for i in items if i.id == item.translation_of and not i.translation_of), None)

