"""Follow-up questions: rewrite "and in the previous quarter?" into a query that retrieval can
answer on its own, from the recent turns of the conversation.

Two rewriters, one contract (question + recent turns -> standalone query):

- With an answer model: one short LLM call (bounded ``max_tokens``, the turns clipped), cached
  by model + turns + question, because the same follow-up after the same turns recurs (retries,
  a reloaded page) and costs a round trip each time. A failed or unusable rewrite falls back
  to the deterministic one: a follow-up must never fail because its *rewrite* did.
- Without one, deterministically: the names (capitalised words, acronyms, codes with digits),
  periods (years, quarters, dates) and cited document titles of the previous turn are carried
  into the question. A follow-up that names a subject of its own keeps only the periods (a new
  subject replaces the old one, the time frame carries); a very short one ("and for 2023?")
  also carries the previous query's topic words. Language-neutral: no stop-word lists.

The previous turn's standalone query already carries what came before it, so looking one turn
back carries context through a whole conversation without growing without bound
(``MAX_CARRIED_TERMS``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ragline.ports import LLM, Cache

logger = logging.getLogger(__name__)

RECENT_TURNS = 3
MAX_CARRIED_TERMS = 16
SHORT_FOLLOW_UP_WORDS = 4
REWRITE_MAX_TOKENS = 64
HISTORY_ANSWER_CHARS = 400
MAX_QUERY_CHARS = 2000

REWRITE_INSTRUCTIONS = """\
Rewrite the follow-up question of this conversation as one standalone search query. Keep the \
names, documents, dates and periods from the conversation that the follow-up refers to. Reply \
with the query only, on one line, in the language of the follow-up."""
REWRITE_PROMPT = "Conversation:\n{history}\n\nFollow-up question: {question}\n\nStandalone query:"

_WORD = re.compile(r"[^\W_](?:[\w'’.\-/]*[^\W_])?")
_PERIOD = re.compile(
    r"\b(?:(?:19|20)\d{2}(?:[-/]\d{1,2}(?:[-/]\d{1,2})?)?|Q[1-4]|H[12]|FY\s?\d{2,4})\b", re.IGNORECASE
)
_SENTENCE_START = re.compile(r"(?:^|[.!?…:;]\s+)$")
_CITATION_MARK = re.compile(r"\s?\[\d+(?:\s*[,;\-–]\s*\d+)*\]")


@dataclass(frozen=True)
class Turn:
    """One earlier question of the conversation, as the rewriter and the answerer see it."""

    question: str
    standalone_query: str
    answer: str
    cited_titles: tuple[str, ...] = ()


# ------------------------------------------------------------------------ deterministic


def _words(text: str) -> list[tuple[int, str]]:
    return [(match.start(), match.group(0)) for match in _WORD.finditer(text)]


def _is_name(word: str) -> bool:
    return word[0].isupper() or any(c.isdigit() for c in word)


def names(text: str) -> list[str]:
    """Capitalised word runs, acronyms and codes ("Harbor Bridge", "NTSB", "N123AB", "2023").
    A capitalised first word of a sentence counts only when the next word is capitalised too
    ("What did ..." is sentence case, "Harbor Bridge inspections ..." a name)."""
    words = _words(text)
    found: list[str] = []
    run: list[str] = []
    for i, (start, word) in enumerate(words):
        sentence_start = bool(_SENTENCE_START.search(text[:start]))
        next_is_name = i + 1 < len(words) and words[i + 1][1][0].isupper()
        if _is_name(word) and (not sentence_start or next_is_name or word.isupper() or not word.isalpha()):
            run.append(word)
            continue
        if run:
            found.append(" ".join(run))
            run = []
    if run:
        found.append(" ".join(run))
    return list(dict.fromkeys(found))


def periods(text: str) -> list[str]:
    return list(dict.fromkeys(match.group(0) for match in _PERIOD.finditer(text)))


def _contains(text: str, term: str) -> bool:
    return term.casefold() in text.casefold()


def deterministic_rewrite(question: str, turns: Sequence[Turn]) -> str:
    """The question plus what it leaves implicit from the previous turn (see the module doc)."""
    if not turns:
        return question.strip()
    previous = turns[-1]
    context = previous.standalone_query or previous.question
    carried: list[str] = [p for p in periods(context) if not _contains(question, p)]
    own_names = [n for n in names(question) if not _PERIOD.fullmatch(n)]
    if not own_names:
        carried += names(context) + list(previous.cited_titles[:2])
    if len(_words(question)) <= SHORT_FOLLOW_UP_WORDS:
        carried += [w for _, w in _words(context)[1:] if len(w) >= 4]  # the first word is sentence case
    terms: list[str] = []
    for term in carried:
        if term and not _contains(question, term) and not any(_contains(t, term) for t in terms):
            terms.append(term)
    if not terms:
        return question.strip()
    return f"{question.strip()} {' '.join(terms[:MAX_CARRIED_TERMS])}"[:MAX_QUERY_CHARS]


# --------------------------------------------------------------------------------- LLM


def history_text(turns: Sequence[Turn]) -> str:
    """The recent turns as "User: … / Assistant: …" lines, answers clipped and without their
    citation marks (old numbers would be mistaken for the current sources)."""
    lines: list[str] = []
    for turn in turns[-RECENT_TURNS:]:
        answer = " ".join(_CITATION_MARK.sub("", turn.answer).split())
        if len(answer) > HISTORY_ANSWER_CHARS:
            answer = answer[:HISTORY_ANSWER_CHARS].rsplit(" ", 1)[0] + "…"
        lines += [f"User: {' '.join(turn.question.split())}", f"Assistant: {answer}"]
    return "\n".join(lines)


def _clean(text: str) -> str:
    line = next((line for line in text.strip().splitlines() if line.strip()), "")
    line = re.sub(r"^(?:standalone (?:search )?query|query)\s*:\s*", "", line.strip(), flags=re.IGNORECASE)
    return line.strip().strip("\"'“”`").strip()


class FollowUpRewriter:
    """Question + recent turns -> standalone query (LLM when configured, else deterministic)."""

    def __init__(self, llm: LLM | None, cache: Cache, *, ttl_s: int = 86400,
                 max_tokens: int = REWRITE_MAX_TOKENS) -> None:
        self.llm = llm
        self.cache = cache
        self.ttl_s = ttl_s
        self.max_tokens = max_tokens

    def standalone(self, question: str, turns: Sequence[Turn]) -> str:
        if not turns:
            return question.strip()
        if self.llm is None:
            return deterministic_rewrite(question, turns)
        key = self.cache_key(question, turns)
        cached = self.cache.get(key)
        if cached:
            return cached
        rewritten = self._ask_model(question, turns)
        if rewritten is None:
            return deterministic_rewrite(question, turns)
        self.cache.set(key, rewritten, self.ttl_s)
        return rewritten

    def cache_key(self, question: str, turns: Sequence[Turn]) -> str:
        assert self.llm is not None
        blob = json.dumps(
            {"model": self.llm.model, "history": history_text(turns), "q": " ".join(question.split())},
            ensure_ascii=False, sort_keys=True,
        )
        return "rewrite:v1:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def _ask_model(self, question: str, turns: Sequence[Turn]) -> str | None:
        assert self.llm is not None
        # Everything travels in the user message: some chat templates drop system messages.
        user = REWRITE_INSTRUCTIONS + "\n\n" + REWRITE_PROMPT.format(
            history=history_text(turns), question=" ".join(question.split())
        )
        try:
            completion = self.llm.complete(REWRITE_INSTRUCTIONS, user, self.max_tokens)
        except Exception as exc:  # the rewrite is an optimisation; the answer call reports outages
            logger.warning("follow-up rewrite failed (%s); using the deterministic rewrite", exc.__class__.__name__)
            return None
        rewritten = _clean(completion.text)
        if not rewritten or len(rewritten) > MAX_QUERY_CHARS:
            logger.warning("follow-up rewrite unusable; using the deterministic rewrite")
            return None
        return rewritten
