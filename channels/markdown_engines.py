"""The Markdown engines: GitHub-flavoured Markdown through cmark-gfm (the default), python-markdown
as the alternative. Each turns a body into unsanitised HTML; ``channels.markup`` sanitises it and
``channels.plaintext`` reads the plain text off that same HTML, so one parse serves both.

Items are written and reviewed on GitHub or GitLab, whose previews render GitHub-flavoured Markdown
(CommonMark): a list nested by two spaces, or a list item's paragraph indented by three, reads there
as cmark-gfm reads it here. Teams coming from Pelican or MkDocs keep python-markdown with
``markdown: {engine: python-markdown, extensions: [...]}`` in publish.yml.
"""
from __future__ import annotations

import html as htmllib
from functools import lru_cache

import regex

CMARK_GFM = "cmark-gfm"
PYTHON_MARKDOWN = "python-markdown"
ENGINES = (CMARK_GFM, PYTHON_MARKDOWN)
#: python-markdown's extensions unless publish.yml names others: what the project used before
#: cmark-gfm became the default (tables, fenced code, footnotes, smart quotes, header ids)
PYTHON_MARKDOWN_EXTENSIONS = ("tables", "fenced_code", "footnotes", "smarty", "toc", "sane_lists")


class CmarkGfm:
    """GitHub's C implementation (https://github.com/github/cmark-gfm) through ``cmarkgfm``'s cffi
    module: tables, strikethrough, autolinks, task lists, footnotes, smart punctuation; raw HTML is
    passed through for nh3 to sanitise (GitHub's tagfilter would show ``<script>`` as text).

    ``cmarkgfm.markdown_to_html_with_extensions`` frees neither the parsed document nor the rendered
    buffer (about 12 bytes kept per byte of Markdown: 1 GB over a 10,000-item blog), and its module
    exports no free function; the same shared object is opened again through ctypes for
    ``cmark_node_free`` and the default allocator's ``free`` (cmark.h: "It is the caller's
    responsibility to free the returned buffer"; commonmark/cmark#544). ctypes rather than a second
    cffi module: cffi's declaration parser costs 0.2 s at every start."""

    name = CMARK_GFM
    EXTENSIONS = (b"table", b"autolink", b"strikethrough", b"tasklist")

    def __init__(self) -> None:
        import ctypes

        from cmarkgfm import _cmark
        from cmarkgfm.cmark import Options

        class Mem(ctypes.Structure):  # cmark_mem: calloc, realloc, free
            _fields_ = [("calloc", ctypes.c_void_p), ("realloc", ctypes.c_void_p),
                        ("free", ctypes.CFUNCTYPE(None, ctypes.c_void_p))]

        self._lib, self._ffi = _cmark.lib, _cmark.ffi
        so = ctypes.CDLL(_cmark.__file__)
        so.cmark_get_default_mem_allocator.restype = ctypes.POINTER(Mem)
        so.cmark_node_free.argtypes = [ctypes.c_void_p]
        so.cmark_node_free.restype = None
        self._free = so.cmark_get_default_mem_allocator().contents.free
        self._node_free = so.cmark_node_free
        self.options = Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_SMART | Options.CMARK_OPT_FOOTNOTES
        self._lib.cmark_gfm_core_extensions_ensure_registered()
        self._extensions = [self._lib.cmark_find_syntax_extension(n) for n in self.EXTENSIONS]

    def html(self, text: str) -> str:
        lib, data = self._lib, text.encode("utf-8")
        parser = lib.cmark_parser_new(self.options)
        try:
            for ext in self._extensions:
                lib.cmark_parser_attach_syntax_extension(parser, ext)
            lib.cmark_parser_feed(parser, data, len(data))
            root = lib.cmark_parser_finish(parser)
            try:
                out = lib.cmark_render_html(root, self.options, lib.cmark_parser_get_syntax_extensions(parser))
                try:
                    html = self._ffi.string(out).decode("utf-8")
                finally:
                    self._free(int(self._ffi.cast("uintptr_t", out)))
            finally:
                self._node_free(int(self._ffi.cast("uintptr_t", root)))
        finally:
            lib.cmark_parser_free(parser)
        html = html.rstrip("\n")  # as python-markdown: a template places the body, not its last newline
        return header_ids(html) if "<h" in html else html


class PythonMarkdown:
    """python-markdown with the given extensions; one converter reused, reset between documents."""

    name = PYTHON_MARKDOWN

    def __init__(self, extensions: tuple[str, ...] = PYTHON_MARKDOWN_EXTENSIONS) -> None:
        import markdown

        configs = {"smarty": {"smart_angled_quotes": False}} if "smarty" in extensions else {}
        self.extensions = extensions
        self._md = markdown.Markdown(extensions=list(extensions), extension_configs=configs)

    def html(self, text: str) -> str:
        return self._md.reset().convert(text)


@lru_cache(maxsize=8)
def engine(name: str = CMARK_GFM, extensions: tuple[str, ...] | None = None) -> CmarkGfm | PythonMarkdown:
    """The engine publish.yml names (made once per process and configuration)."""
    if name == PYTHON_MARKDOWN:
        return PythonMarkdown(tuple(extensions) if extensions is not None else PYTHON_MARKDOWN_EXTENSIONS)
    return CmarkGfm()


# -- header ids as GitHub derives them ------------------------------------------------------------
_HEADING = regex.compile(r"<h([1-6])>(.*?)</h\1>", regex.S)
_TAG = regex.compile(r"<[^>]*>")
# html-pipeline's TableOfContentsFilter: PUNCTUATION_REGEXP = /[^\p{Word}\- ]/u, where Ruby's
# \p{Word} is letters, marks, decimal digits and connector punctuation
_NOT_WORD = regex.compile(r"[^\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\- ]")


def slug(text: str) -> str:
    """A heading's id as GitHub makes it: lower case, punctuation dropped, each space a hyphen."""
    return _NOT_WORD.sub("", text.lower()).replace(" ", "-")


def header_ids(html: str) -> str:
    """``<h2>Why “this” matters</h2>`` → ``<h2 id="why-this-matters">…``; a repeated id gets -1, -2 …
    (GitHub's own ids carry a ``user-content-`` prefix, which a page of our own does not need)."""
    seen: dict[str, int] = {}

    def add(m: regex.Match) -> str:
        base = slug(htmllib.unescape(_TAG.sub("", m.group(2))))
        if not base:
            return m.group(0)
        n = seen.get(base, 0)
        seen[base] = n + 1
        ident = f"{base}-{n}" if n else base
        return f'<h{m.group(1)} id="{htmllib.escape(ident, quote=True)}">{m.group(2)}</h{m.group(1)}>'

    return _HEADING.sub(add, html)
