"""Streamed answers: citations renumbered while the text streams, extractive answers in pieces.

Why renumber on the fly: a client shows tokens as they arrive and cannot take them back, yet
the answer it keeps must be the one `map_citations` gives (invented numbers dropped, sources
renumbered 1..n in order of first citation). So the raw model text is mapped as it grows, and
only the part that can no longer change is released: everything before an unclosed ``[``
that may still become a citation marker. The released text is always a prefix of
``map_citations(full_text).text``, so the streamed answer and the stored one are the same.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from ragline.query.answer import CitedAnswer, Source, map_citations

# Longest "[Source 12, 13 and 14]" we wait for; a "[" open for longer is plain text.
MAX_MARKER_CHARS = 40
# What may appear inside a citation marker before its "]" (see answer._CITATION).
_MARKER_WORDS = ("sources", "source", "nguồn", "ref")
_MARKER_NUMBERS = re.compile(r"^[\d\s,;\-–and]*$")
# An extractive answer is "sentence [n] sentence [m] ...": one piece per cited sentence.
_AFTER_CITATION = re.compile(r"(?<=\]) (?=\S)")


class CitationStream:
    """Feed raw model deltas; get back text with validated, renumbered citations."""

    def __init__(self, sources: Sequence[Source]) -> None:
        self.sources = list(sources)
        self.raw = ""
        self.released = ""

    def feed(self, delta: str) -> str:
        """The newly releasable text after ``delta`` (may be empty while a marker is open)."""
        self.raw += delta
        return self._release(self._settled(self.raw))

    def finish(self) -> tuple[str, CitedAnswer]:
        """The rest of the text, and the whole answer as `map_citations` maps it."""
        cited = map_citations(self.raw, self.sources, renumber=True)
        rest = cited.text[len(self.released):] if cited.text.startswith(self.released) else ""
        self.released = cited.text
        return rest, cited

    @staticmethod
    def _settled(raw: str) -> str:
        """``raw`` without a trailing fragment that may still turn into a citation marker
        (and without the whitespace before it, which the marker's mapping may consume)."""
        start = raw.rfind("[")
        if start == -1 or "]" in raw[start:]:
            return raw
        tail = raw[start:]
        if len(tail) > MAX_MARKER_CHARS or not _may_become_marker(tail):
            return raw
        return raw[:start].rstrip()

    def _release(self, settled: str) -> str:
        mapped = map_citations(settled, self.sources, renumber=True).text
        if not mapped.startswith(self.released):
            return ""  # cannot happen for well-formed text; the rest comes out in finish()
        new, self.released = mapped[len(self.released):], mapped
        return new


def _may_become_marker(tail: str) -> bool:
    """Whether an unclosed "[..." could still be a citation: "[", "[2, ", "[Sour", "[nguồn 1"."""
    body = tail[1:].lstrip().casefold()
    for word in _MARKER_WORDS:
        if word.startswith(body):
            return True
        if body.startswith(word):
            rest = body[len(word):].lstrip()
            return bool(_MARKER_NUMBERS.match(rest.removeprefix(":").lstrip()))
    return bool(_MARKER_NUMBERS.match(body))


def extractive_pieces(text: str) -> Iterator[str]:
    """An extractive answer as it is streamed: one cited sentence at a time (with the space
    that joins it to the previous one), so the client code is the same for every answer."""
    for index, piece in enumerate(_AFTER_CITATION.split(text)):
        yield piece if index == 0 else " " + piece
