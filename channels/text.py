"""Counting rules (how each platform measures a text) and thread splitting that respects them.

Each platform counts differently; a post that fits one may not fit another. The counting functions
live here, each with its source; each adapter declares its own limit and which function counts
against it (``Channel.MAX_CHARS``, ``LENGTH``, ``LENGTH_UNIT``, ``LENGTH_SOURCE``), and
``channels.registry.rule_for(type, options)`` gives the ``LengthRule`` a channel type uses.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Callable

import regex

# A URL as the platforms' link detectors see it: a scheme not glued to a preceding word (twitter-text's
# "valid preceding characters"; Mastodon's extractor is the same), then everything up to whitespace,
# minus trailing punctuation that usually ends the sentence rather than the link.
URL_RE = regex.compile(r"(?<![\w@$#＃/.-])https?://[^\s<>\"]+[^\s<>\".,;:!?)\]'’”»…]", regex.IGNORECASE)
_GRAPHEME = regex.compile(r"\X")


def graphemes(text: str) -> int:
    """User-perceived characters (Unicode extended grapheme clusters, UAX #29)."""
    if text.isascii():  # every ASCII character is a cluster of its own, except CR LF
        return len(text) - text.count("\r\n")
    return len(_GRAPHEME.findall(text))


def code_points(text: str) -> int:
    return len(text)


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# -- Mastodon -----------------------------------------------------------------------------------
# Mastodon app/validators/status_length_validator.rb: the status is counted in grapheme clusters
# (``str.mb_chars.grapheme_length``) after ``countable_text`` replaces every URL by 23 characters
# (URL_PLACEHOLDER_CHARS, also published as Instance configuration.statuses.characters_reserved_per_url)
# and every remote mention ``@user@domain`` by ``@user``. The limit is ``Mastodon.MAX_CHARS``.
_MENTION_RE = regex.compile(r"(?<![\w/@])@(\w[\w.]*\w|\w)@[\w-]+(?:\.[\w-]+)+")


# Mastodon counts a URL as 23 only where its extractor finds one: ``countable_text`` rewrites the
# entities of ``Extractor.extract_entities_with_indices(str, extract_url_without_protocol: false)``,
# the regex TextFormatter links with (app/validators/status_length_validator.rb, app/lib/text_formatter.rb).
# That is twitter-text's ``valid_url`` (Mastodon's config/initializers/twitter_regex.rb widens its path
# characters only), whose ``valid_domain`` must end in a known gTLD or ccTLD or a punycode label
# (twitter-text lib/twitter-text/regex.rb). A URL on any other name (``https://news.test/``, a bare IP
# address, ``localhost``) is plain text to Mastodon and counts whole. The known TLDs: ``tlds.TLDS``.
_HOST_RE = regex.compile(r"https?://([^/?#:\s]*)", regex.IGNORECASE)


def linked_by_mastodon(url: str) -> bool:
    """Whether Mastodon makes ``url`` (a ``URL_RE`` match) a link: its host ends in a known TLD."""
    from .tlds import TLDS

    m = _HOST_RE.match(url)
    label = m.group(1).rstrip(".").rpartition(".")[2].lower() if m and "." in m.group(1) else ""
    return label in TLDS or (label.startswith("xn--") and len(label) > 4)


def mastodon_length(text: str, url_weight: int = 23) -> int:
    countable = (URL_RE.sub(lambda m: "x" * url_weight if linked_by_mastodon(m.group(0)) else m.group(0), text)
                 if "://" in text else text)
    if "@" in countable:
        countable = _MENTION_RE.sub(lambda m: "@" + m.group(1), countable)
    return graphemes(countable)


# -- X ------------------------------------------------------------------------------------------
# twitter-text config/v3.json (github.com/twitter/twitter-text, config/v3.json): maxWeightedTweetLength
# 280, scale 100, defaultWeight 200, transformedURLLength 23, emojiParsingEnabled true, and code points
# in these ranges weigh 100 (1 after scaling): 0-4351, 8192-8205, 8208-8223, 8242-8247. Everything else
# (CJK, most symbols) weighs 2; an emoji sequence weighs 2 as a whole. The text is NFC-normalised first
# (twitter-text parseTweet). Conformance cases: twitter-text conformance/validate.yml,
# WeightedTweetsWithDiscountedEmojiCounterTest.
#: dev.to takes at most this many tags an article (developers.forem.com/api/v1#tag/articles); here so the
#: renderer and the filters need not import the adapter
DEVTO_MAX_TAGS = 4

X_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_EMOJI_RE = regex.compile(r"[\p{Extended_Pictographic}\p{Regional_Indicator}\u20e3\U0001F3FB-\U0001F3FF]")


def _x_weight(cp: int) -> int:
    for start, end in X_RANGES:
        if start <= cp <= end:
            return 1
    return 2


# twitter-text also links a bare domain (conformance validate.yml "lengths": "test.com" counts 23). Its
# full TLD list is long; these are the TLDs a newsroom's posts realistically carry without a scheme.
_BARE_URL_RE = regex.compile(
    r"(?<![\w@$#＃/.-])(?:https?://[^\s<>\"]+[^\s<>\".,;:!?)\]'’”»…]"
    r"|(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:com|org|net|io|co|dev|app|info|biz|me|ai|tv|ly|eu|de|uk|fr|"
    r"es|it|nl|ch|at|se|no|dk|fi|pl|jp|cn|us|ca|au|in|br)\b(?:/[^\s<>\"]*[^\s<>\".,;:!?)\]'’”»…])?)",
    regex.IGNORECASE)


def x_length(text: str, url_weight: int = 23) -> int:
    text = unicodedata.normalize("NFC", text)
    total, pos = 0, 0
    for m in _BARE_URL_RE.finditer(text):
        total += _x_segment(text[pos:m.start()]) + url_weight
        pos = m.end()
    return total + _x_segment(text[pos:])


def _x_segment(text: str) -> int:
    if text.isascii():
        return len(text)
    total = 0
    for cluster in _GRAPHEME.findall(text):
        if _EMOJI_RE.search(cluster):
            total += 2
        else:
            total += sum(_x_weight(ord(c)) for c in cluster)
    return total


@dataclass(frozen=True)
class LengthRule:
    """How one platform measures a text, and its limit (None: no limit we check)."""

    name: str
    limit: int | None
    unit: str
    measure: Callable[[str], int]
    source: str


# -- threads ------------------------------------------------------------------------------------
_SENTENCE_END = regex.compile(r"(?<=[.!?…。！？])\s+|\n{2,}")
_WORD = regex.compile(r"\S+\s*")


def _atoms(text: str) -> list[str]:
    """Sentences with their trailing whitespace; text joined back from atoms is the text."""
    out, pos = [], 0
    for m in _SENTENCE_END.finditer(text):
        out.append(text[pos:m.end()])
        pos = m.end()
    if pos < len(text):
        out.append(text[pos:])
    return out


def _pieces(atom: str, budget: int, measure: Callable[[str], int]) -> list[str]:
    """An atom too long for a part, cut at words; a word longer than a part is cut by graphemes
    unless it is a link, which is never cut (it stays whole, and over the limit)."""
    out = []
    for word in _WORD.findall(atom):
        if measure(word.rstrip()) <= budget or URL_RE.fullmatch(word.strip()):
            out.append(word)
            continue
        chunk = ""
        for g in _GRAPHEME.findall(word):
            if chunk and measure(chunk + g) > budget:
                out.append(chunk)
                chunk = ""
            chunk += g
        out.append(chunk)
    return out


def _pack(text: str, budget: int, measure: Callable[[str], int], exact: bool = False) -> list[str]:
    """Greedy packing of sentences (or words) into parts within ``budget``.

    Every rule here adds up across whitespace (a URL or a grapheme never spans a space), so a part's
    length is kept as a running sum instead of measuring the growing text again for every piece;
    ``split_thread`` verifies the result and packs again with ``exact`` measuring if it is off."""
    parts: list[str] = []
    current, size = "", 0  # size: measure(current), trailing whitespace included

    def fits(piece: str) -> bool:
        if exact:
            return measure((current + piece).rstrip()) <= budget
        return size + measure(piece.rstrip()) <= budget

    for atom in _atoms(text):
        candidates = [atom] if measure(atom.rstrip()) <= budget else _pieces(atom, budget, measure)
        for piece in candidates:
            if current and not fits(piece):
                # Prefer ending a part at a paragraph when that still fills at least half of it.
                cut = current.rstrip().rfind("\n\n")
                if cut > 0 and measure(current[:cut]) * 2 >= budget:
                    parts.append(current[:cut].rstrip())
                    current = current[cut:].lstrip()
                    size = measure(current)
                if current and not fits(piece):
                    parts.append(current.rstrip())
                    current, size = "", 0
            if not current:
                piece = piece.lstrip()  # a part never starts with the whitespace that ended the last one
            current += piece
            size += measure(piece)
    if current.strip():
        parts.append(current.rstrip())
    return parts


def split_thread(text: str, limit: int, measure: Callable[[str], int]) -> list[str]:
    """``text`` in numbered parts ("… 1/3") each within ``limit`` by ``measure``, cut at sentence ends
    where possible, else at words; links are never cut. A text that fits stays one unnumbered part."""
    text = text.strip()
    if measure(text) <= limit:
        return [text]
    guess = 9
    for _ in range(4):  # the suffix width depends on the part count: settle it
        suffix = f"\n\n{guess}/{guess}"
        budget = max(1, limit - measure(suffix))
        parts = _pack(text, budget, measure)
        if any(measure(p) > budget for p in parts):  # the running sum was off (a rule not additive here)
            parts = _pack(text, budget, measure, exact=True)
        if len(str(len(parts))) <= len(str(guess)):
            break
        guess = 10 ** len(str(len(parts))) - 1
    n = len(parts)
    return [f"{part}\n\n{i}/{n}" for i, part in enumerate(parts, 1)]
