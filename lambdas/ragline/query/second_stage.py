"""The second stage of retrieval: re-order the index's candidates before the top k are kept.

The index ranks each passage on its own. Two things it cannot see need the candidates
together:

- The passage itself. Chunks are embedded and indexed with their document's context header
  (title, period, section), which is what finds the right document; but then every chunk of
  that document matches the question's entity words equally. Re-scoring the candidates by the
  question's words in the passage text alone (BM25, IDF over the candidates) and fusing that
  rank with the index's rank (RRF) brings the passage that answers up among its siblings. For
  a question across documents, words of one candidate document only (its name) are left out:
  each document's passage is picked by what is asked of all of them.
- Boilerplate. Passages that repeat nearly verbatim across a tenant's documents (standard
  paragraphs of a report form, certifications, legal notices, protocol templates) match many
  questions equally well and answer none of them: they are the same text in every document.
  A candidate is boilerplate when most of its word 5-gram shingles also occur in candidates
  from two *other* documents (two sibling documents sharing a section is not boilerplate).
  Those are moved behind the others (kept, so a question that is really about them still finds
  them) and are never quoted by extractive answers.
- Crowding. One long document can fill the whole top k with its neighbouring chunks; a cap per
  document (``max_per_document``) keeps room for other documents. Chunks beyond the cap move
  behind the others, in their order. A question that asks about several documents ("compare
  …", "which studies …", "both reports") gets ``SPREAD_PER_DOCUMENT`` whatever the setting:
  it is answered from each document's best passage, and one document's neighbouring chunks
  would leave the others out. (On the nih dev set the gold documents of such questions were
  mostly among the first four *documents* of the candidates, but behind a fifth and sixth
  chunk of the first one.)
- Focus. A question about one document is answered from that document's passages; other
  documents' chunks that rank among them (a shared phrase, a similar protocol) take the slots
  of its own next chunks. Unless the question is across documents, the first hit's document's
  chunks move up ``FIRST_DOCUMENT_RANKS`` places, and the best hit of another document keeps
  its place in the top 5 if it had one, in case the first document is the wrong one. (On the
  nih dev set, context recall@6 0.66 → 0.71, with recall@5 unchanged.)
- Time. Each document may carry its date and period (the chunker's descriptor). A question
  that names a year ("in 2022", "Q3 2025") or asks for the latest/most recent one moves the
  hits of the documents that match (the year in their date or period; the newest date among
  the candidates) up by ``TIME_BOOST_RANKS`` places: a boost, not a filter, so a question
  whose year is only a detail still finds its passage.

- Width. A chunk is ~220 tokens cut from its section; the figure a question asks for is often
  in the sentence or table row just before or after the cut. ``widened`` joins a kept hit with
  its neighbouring chunks of the same section (the retriever reads them from the index by
  chunk index), removing the overlap consecutive chunks share, so the answerer and a
  retrieval client get the passage with its surroundings. Ranking is done on the chunks as
  indexed; but a hit that lies inside a better hit's widened passage brings nothing new, so
  ``uncovered`` drops it before the top k is cut and the slot goes to the next passage. (On
  the nih dev set the chunk that answers was often ranked 7th–10th, behind neighbours of the
  first hit that widening had already joined to it.)
- The embedding's pick. Hybrid ranking counts the question's words twice (the keyword list,
  then the passage rerank) and its meaning once: the passage that answers "what ages are
  eligible" with "adults between 18 and 50 years old" is the dense list's first and fell to 7th
  after both. ``with_leader`` keeps the dense list's best passage among the first
  ``LEADER_SLOTS`` (the answer's default top k). (nih dev set: context recall@6 0.74 → 0.75,
  three gained, two lost; the issue's filings corpus had dense ahead of hybrid on every measure.)

Pure functions over ``Hit`` lists: no I/O, the same for every engine.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import math
from collections import Counter

from ragline.models import Hit
from ragline.query.question import across_documents
from ragline.text import stem, tokenize

SHINGLE_WORDS = 5
BOILERPLATE_OVERLAP = 0.6  # share of a passage's shingles found in each other document's passage
MIN_SHINGLES = 8  # shorter passages are too short to call repeated
# Documents a passage must occur in to be boilerplate: a form's standard paragraph is in every
# report, but two sibling protocols (a staff and a patient study of one project) share whole
# sections, budget included, that answer questions about each of them.
BOILERPLATE_DOCUMENTS = 3
TIME_BOOST_RANKS = 5
SPREAD_PER_DOCUMENT = 1  # chunks per document ahead of other documents' for questions across documents
FIRST_DOCUMENT_RANKS = 10  # places the first hit's document's chunks move up for a question about one document
LEADER_SLOTS = 6  # the first passages, where the dense list's best one is kept
PASSAGE_RRF_K = 60  # fusing the index rank with the passage-text rank
BM25_K1, BM25_B = 1.2, 0.75
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
# "latest", "most recent", "newest", "last quarter/year/report"; Vietnamese "mới nhất", "gần đây nhất".
_LATEST = re.compile(
    r"\b(?:latest|most\s+recent|newest|last\s+(?:quarter|year|report|filing|version))\b|mới\s+nhất|gần\s+đây\s+nhất",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Ranked:
    """The kept hits, best first, and the point ids among them that are boilerplate."""

    hits: list[Hit]
    boilerplate: frozenset[str] = field(default_factory=frozenset)


def shingles(text: str, size: int = SHINGLE_WORDS) -> frozenset[tuple[str, ...]]:
    words = tokenize(text)
    return frozenset(tuple(words[i : i + size]) for i in range(max(0, len(words) - size + 1)))


def boilerplate_ids(hits: Sequence[Hit], threshold: float = BOILERPLATE_OVERLAP) -> frozenset[str]:
    """Point ids of hits whose text mostly repeats hits of ``BOILERPLATE_DOCUMENTS`` - 1 other
    documents (by shingles, or by the chunker's fingerprint of the normalised text where the
    payload has one)."""
    sets = [shingles(hit.text) for hit in hits]
    found: set[str] = set()
    fingerprints: dict[str, set[str]] = {}
    for hit in hits:
        if fingerprint := getattr(hit, "fingerprint", None):
            fingerprints.setdefault(fingerprint, set()).add(hit.document_id)
    found.update(h.point_id for h in hits
                 if len(fingerprints.get(getattr(h, "fingerprint", None) or "", ())) >= BOILERPLATE_DOCUMENTS)
    for i, (hit, mine) in enumerate(zip(hits, sets)):
        if len(mine) < MIN_SHINGLES:
            continue
        others = {hits[j].document_id for j, other in enumerate(sets)
                  if i != j and hits[j].document_id != hit.document_id and len(other) >= MIN_SHINGLES
                  and len(mine & other) >= threshold * len(mine)}
        if len(others) + 1 >= BOILERPLATE_DOCUMENTS:
            found.add(hit.point_id)
    return frozenset(found)


def time_boosted(question: str, hits: Sequence[Hit]) -> list[Hit]:
    """``hits`` with those of the documents the question's year or "latest" points to moved up."""
    years = set(_YEAR.findall(question))
    latest = bool(_LATEST.search(question))
    dated = {h.document_id: getattr(h, "document_date", None) or "" for h in hits}
    if not (years or latest) or not any(dated.values()):
        return list(hits)
    newest = max(dated.values())
    favoured = set()
    for hit in hits:
        when = f"{dated[hit.document_id]} {getattr(hit, 'period', None) or ''}"
        if (years and years & set(_YEAR.findall(when))) or (latest and newest and dated[hit.document_id] == newest):
            favoured.add(hit.document_id)
    # -0.5: a boosted hit goes ahead of the one it lands level with.
    position = {h.point_id: rank - (TIME_BOOST_RANKS + 0.5 if h.document_id in favoured else 0) for rank, h in enumerate(hits)}
    return sorted(hits, key=lambda h: position[h.point_id])


def passage_scores(question: str, hits: Sequence[Hit], *, across: bool = False) -> list[float]:
    """BM25 of the question's words against each candidate's passage text (no context header),
    with IDF and average length taken over the candidates. Words are compared by their stems
    (``ragline.text.stem``): the passage that answers "what ages are eligible" says "aged" and
    "eligibility", while its siblings repeat the document's name word for word. For a question
    ``across`` documents, words found in one candidate document only are left out: they name
    that document ("DVRd", "melanoma"), which the index rank has already found, and would pick
    the passage that repeats its name rather than the one that gives what is asked of it
    ("follow-up")."""
    wanted = {stem(t) for t in tokenize(question)}
    counts = [Counter(stem(t) for t in tokenize(hit.text)) for hit in hits]
    if across:
        documents: dict[str, set[str]] = {}
        for hit, c in zip(hits, counts):
            for term in wanted & c.keys():
                documents.setdefault(term, set()).add(hit.document_id)
        wanted = {t for t in wanted if len(documents.get(t, ())) != 1}
    lengths = [sum(c.values()) for c in counts]
    average = (sum(lengths) / len(lengths)) if lengths else 1.0
    df = Counter(term for c in counts for term in wanted if term in c)
    n = len(hits)
    scores = []
    for c, length in zip(counts, lengths):
        norm = BM25_K1 * (1 - BM25_B + BM25_B * length / max(average, 1.0))
        scores.append(sum(
            math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5)) * c[t] * (BM25_K1 + 1) / (c[t] + norm)
            for t in wanted if t in c
        ))
    return scores


def passage_fused(question: str, hits: Sequence[Hit], *, across: bool = False) -> list[Hit]:
    """``hits`` ordered by RRF of the index's rank and the passage-text rank."""
    if not question or len(hits) < 2:
        return list(hits)
    scores = passage_scores(question, hits, across=across)
    by_passage = sorted(range(len(hits)), key=lambda i: -scores[i])
    passage_rank = {i: rank for rank, i in enumerate(by_passage)}
    fused = {i: 1 / (PASSAGE_RRF_K + i) + 1 / (PASSAGE_RRF_K + passage_rank[i]) for i in range(len(hits))}
    return [hits[i] for i in sorted(fused, key=lambda i: -fused[i])]


def rerank(
    hits: Sequence[Hit],
    limit: int,
    *,
    question: str = "",
    max_per_document: int | None = None,
    passage_rerank: bool = True,
) -> Ranked:
    """The top ``limit`` of ``hits`` (the index's candidates, best first) after the passage
    rerank and the time boost, pushing boilerplate and over-represented documents behind."""
    across = across_documents(question)
    if passage_rerank:
        hits = passage_fused(question, hits, across=across)
    hits = time_boosted(question, hits)
    repeated = boilerplate_ids(hits)
    if across:
        max_per_document = min(max_per_document or SPREAD_PER_DOCUMENT, SPREAD_PER_DOCUMENT)
    else:
        hits = first_document_ahead([h for h in hits if h.point_id not in repeated], FIRST_DOCUMENT_RANKS) + [
            h for h in hits if h.point_id in repeated]
    first: list[Hit] = []
    later: list[Hit] = []
    per_document: dict[str, int] = {}
    for hit in hits:
        if hit.point_id in repeated:
            continue
        seen = per_document.get(hit.document_id, 0)
        if max_per_document is not None and seen >= max_per_document:
            later.append(hit)
            continue
        per_document[hit.document_id] = seen + 1
        first.append(hit)
    ordered = first + later + [hit for hit in hits if hit.point_id in repeated]
    kept = ordered[:limit]
    return Ranked(kept, frozenset(h.point_id for h in kept if h.point_id in repeated))


def first_document_ahead(hits: Sequence[Hit], ranks: int, keep_within: int = 5) -> list[Hit]:
    """``hits`` with the first hit's document's other chunks moved ``ranks`` places up; the best
    hit of another document keeps its place in the top ``keep_within`` if it had one."""
    if not hits:
        return []
    first = hits[0].document_id
    position = {h.point_id: rank - (ranks + 0.5 if h.document_id == first else 0) for rank, h in enumerate(hits)}
    ordered = sorted(hits, key=lambda h: position[h.point_id])
    other = next((rank for rank, h in enumerate(hits) if h.document_id != first), None)
    if other is not None and other < keep_within and ordered.index(hits[other]) >= keep_within:
        ordered.remove(hits[other])
        ordered.insert(keep_within - 1, hits[other])
    return ordered


def kept_only(ranked: Ranked, hits: Sequence[Hit]) -> Ranked:
    """``ranked`` cut to ``hits`` (a subset of its hits), boilerplate ids with them."""
    ids = {h.point_id for h in hits}
    return Ranked(list(hits), frozenset(ranked.boilerplate & ids))


def uncovered(hits: Sequence[Hit], reach: int) -> list[Hit]:
    """``hits`` without those within ``reach`` chunks of a better-ranked hit of the same
    document and section (its widened passage already holds them)."""
    kept: list[Hit] = []
    for hit in hits:
        if not any(_holds(k, hit, reach) for k in kept):
            kept.append(hit)
    return kept


def with_leader(top: Sequence[Hit], leader: Hit | None, reach: int, boilerplate: frozenset[str]) -> list[Hit]:
    """``top`` with ``leader`` (the dense list's best passage) among its first ``LEADER_SLOTS``,
    unless a hit there already holds it (within ``reach`` chunks: its widened passage) or it is
    boilerplate. The list keeps its length; the hit the leader displaces moves down one."""
    if leader is None or not top or leader.point_id in boilerplate:
        return list(top)
    if any(_holds(hit, leader, reach) for hit in top[:LEADER_SLOTS]):
        return list(top)
    rest = [hit for hit in top if hit.point_id != leader.point_id]
    at = min(LEADER_SLOTS, len(top)) - 1
    return (rest[:at] + [leader] + rest[at:])[: len(top)]


def _holds(kept: Hit, hit: Hit, reach: int) -> bool:
    """Whether ``kept``'s widened passage (``reach`` chunks each side, same section) holds ``hit``."""
    return (kept.document_id == hit.document_id and kept.section_path == hit.section_path
            and abs(kept.chunk_index - hit.chunk_index) <= reach)


def join_overlapping(first: str, second: str) -> str:
    """``first`` then ``second`` without the text they share (consecutive chunks of a section
    repeat the end of one at the start of the next)."""
    for size in range(min(len(first), len(second)), 0, -1):
        if first.endswith(second[:size]) and (size > 20 or size == len(second)):
            return first + second[size:]
    return f"{first}\n{second}"


def widened(hit: Hit, neighbours: Sequence[Hit]) -> Hit:
    """``hit`` with the text of the neighbouring chunks of its document and section that
    touch it (``neighbours``: chunks around it, any order; others are ignored)."""
    same_section = {n.chunk_index: n for n in neighbours
                    if n.document_id == hit.document_id and n.section_path == hit.section_path}
    text, before, after = hit.text, hit.chunk_index - 1, hit.chunk_index + 1
    while before in same_section:
        text = join_overlapping(same_section[before].text, text)
        before -= 1
    while after in same_section:
        text = join_overlapping(text, same_section[after].text)
        after += 1
    pages = [p for n in (hit, *(same_section[i] for i in range(before + 1, after) if i != hit.chunk_index))
             for p in (n.page_start, n.page_end) if p is not None]
    update: dict[str, object] = {"text": text}
    if pages:
        update.update(page_start=min(pages), page_end=max(pages))
    return hit.model_copy(update=update)
