"""The query use case on real stores: EdgeIndex on disk, the SQL catalog (SQLite and
PostgreSQL), the HashEmbedder, and answers from an OpenAI-compatible server on loopback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ragline.cache import MemoryCache
from ragline.catalog import migrate
from ragline.errors import NotFoundError
from ragline.llm import Completion, OpenAILLM
from ragline.query.answer import NO_HITS_ANSWER
from ragline.query.retrieval import EmbedderUnavailableError, Retriever
from ragline.query.schemas import QueryRequest
from ragline.query.service import QueryService

from tests.integration.query_fixtures import build_world
from tests.support.openai_server import OpenAICompatibleServer

pytest_plugins = ["tests.support.databases"]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    return build_world(tmp_path_factory.mktemp("world"))


def service_for(world, *, llm=None, embedder="default", budget: int = 3000, cache=None) -> QueryService:
    if embedder == "default":
        embedder = world.embedder

    def provider():
        if isinstance(embedder, Exception):
            raise embedder
        return embedder

    cache = cache if cache is not None else MemoryCache()
    return QueryService(
        catalog=world.catalog,
        retriever=Retriever(world.index, provider, cache),
        cache=cache,
        llm=llm,
        context_token_budget=budget,
    )


def markers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\[(\d+)\]", text)]


# ------------------------------------------------------------------------------- retrieval


@pytest.mark.parametrize("mode", ["hybrid", "dense", "sparse"])
def test_each_mode_finds_the_relevant_chunk(world, mode: str) -> None:
    result = service_for(world).search("acme", "customers return unused items refund", mode=mode, top_k=3)
    assert result.hits, mode
    top = result.hits[0]
    assert top.document_id == world.doc("acme", "refunds.pdf")
    assert top.page_start == 1 and top.title == "Refund policy" and top.source == "refunds.pdf"
    assert "unused items" in top.snippet
    assert top.score > 0 and result.latency_ms > 0


def test_search_returns_full_text_only_when_asked(world) -> None:
    service = service_for(world)
    plain = service.search("acme", "customers return unused items refund", mode="sparse", top_k=2)
    full = service.search("acme", "customers return unused items refund", mode="sparse", top_k=2, full_text=True)
    assert all(h.text is None for h in plain.hits)
    assert [h.chunk_index for h in full.hits] == [h.chunk_index for h in plain.hits]
    assert all(h.text and h.snippet.strip("…")[:40] in h.text for h in full.hits)


def test_a_query_embedder_other_than_the_collections_is_refused(tmp_path) -> None:
    """Same size, other model: the index's record stops the query, with what to do."""
    from ragline.embeddings.hash_embedder import HashEmbedder
    from ragline.index.edge_index import EdgeIndex
    from ragline.models import IndexPoint
    from ragline.sparse import sparse_document_vector

    index = EdgeIndex(str(tmp_path), "chunks")
    builder = HashEmbedder(64)
    index.ensure_collection(64, builder.name)
    text = "Refunds are paid within 14 days."
    index.upsert([IndexPoint(id="00000000-0000-0000-0000-000000000001", tenant="acme", document_id="d", version="v",
                             chunk_index=0, text=text, source="r.pdf", file_type="pdf",
                             dense=builder.embed_query(text), sparse=sparse_document_vector(text))])

    other = HashEmbedder(64)
    other.name = "other-model-64"
    retriever = Retriever(index, lambda: other, MemoryCache())
    with pytest.raises(EmbedderUnavailableError, match="built with the embedder hash-v1-64.*other-model-64"):
        retriever.search("acme", "refund days", mode="hybrid", limit=3)
    assert retriever.search("acme", "refund days", mode="sparse", limit=3)[0].text == text
    assert Retriever(index, lambda: builder, MemoryCache()).search("acme", "refund days", mode="dense", limit=3)
    index.close()


def test_vietnamese_question_finds_the_vietnamese_document(world) -> None:
    result = service_for(world).search("acme", "thuế suất VAT là bao nhiêu", mode="hybrid", top_k=2)
    assert result.hits[0].document_id == world.doc("acme", "thue.txt")
    assert "10%" in result.hits[0].snippet


def test_filters_on_document_ids_and_file_types(world) -> None:
    service = service_for(world)
    by_doc = service.search("acme", "days", mode="sparse", top_k=10, document_ids=[world.doc("acme", "handbook.md")])
    assert by_doc.hits and {h.document_id for h in by_doc.hits} == {world.doc("acme", "handbook.md")}
    by_type = service.search("acme", "days", mode="hybrid", top_k=10, file_types=["pdf"])
    assert by_type.hits and {h.source for h in by_type.hits} == {"refunds.pdf"}


def test_the_tenant_filter_is_always_applied(world) -> None:
    hits = service_for(world).search("acme", "Project Zebra volcano lair", mode="hybrid", top_k=10).hits
    assert all(h.document_id not in {world.doc("globex", "secret-plan.txt"), world.doc("globex", "handbook.md")} for h in hits)
    other = service_for(world).search("globex", "Project Zebra volcano lair", mode="sparse", top_k=1).hits
    assert other[0].document_id == world.doc("globex", "secret-plan.txt")


@pytest.mark.parametrize("mode", ["dense", "hybrid"])
def test_dense_modes_fail_clearly_without_an_embedder(world, mode: str) -> None:
    for broken in (None, RuntimeError("model files missing")):
        with pytest.raises(EmbedderUnavailableError, match="mode=sparse"):
            service_for(world, embedder=broken).ask("acme", QueryRequest(question="refund", mode=mode))


def test_an_embedder_failing_at_query_time_is_unavailable(world) -> None:
    class Failing:
        name, dimensions = "failing", 64

        def embed_query(self, text):
            raise TimeoutError("provider timed out")

    with pytest.raises(EmbedderUnavailableError, match="provider timed out"):
        service_for(world, embedder=Failing()).search("acme", "refund", mode="dense")


def test_sparse_mode_needs_no_embedder(world) -> None:
    service = service_for(world, embedder=RuntimeError("no embedder here"))
    response = service.ask("acme", QueryRequest(question="refund unused items", mode="sparse"))
    assert response.citations and response.answer_type == "extractive"


def test_punctuation_only_sparse_query_matches_nothing(world) -> None:
    response = service_for(world).ask("acme", QueryRequest(question="?!", mode="sparse"))
    assert response.answer == NO_HITS_ANSWER and response.citations == []


# ---------------------------------------------------------------------------------- answers


def test_extractive_answer_without_an_llm(world) -> None:
    response = service_for(world).ask("acme", QueryRequest(question="How many days of annual leave per year?"))
    assert response.answer_type == "extractive" and response.model is None and response.usage is None
    assert response.answer.startswith("Annual leave is 20 days per year for every employee. [1]")
    assert sorted(set(markers(response.answer))) == [c.number for c in response.citations]
    assert response.citations[0].document_id == world.doc("acme", "handbook.md")
    assert set(response.latency_ms) >= {"total", "cache_lookup", "embed", "search", "answer", "cache_store", "log"}
    assert response.latency_ms["total"] >= response.latency_ms["search"]


def test_extractive_answer_in_vietnamese(world) -> None:
    response = service_for(world).ask("acme", QueryRequest(question="Thuế suất VAT cho hàng hóa là bao nhiêu?"))
    assert "10%" in response.answer.split("[1]")[0]
    assert response.citations[0].document_id == world.doc("acme", "thue.txt")


def test_generated_answer_with_citations_mapped(world) -> None:
    with OpenAICompatibleServer() as server:
        llm = OpenAILLM("gpt-4o-mini", base_url=server.base_url, api_key="k")
        response = service_for(world, llm=llm).ask(
            "acme", QueryRequest(question="When are refunds paid?", mode="sparse", top_k=3)
        )
        prompt = server.requests_to("/v1/chat/completions")[0].body["messages"][1]["content"]  # the user message carries the sources
    assert response.answer_type == "generated" and response.model == "gpt-4o-mini"
    assert response.usage and response.usage.prompt_tokens > 0
    assert markers(response.answer) == [1]
    (citation,) = response.citations
    assert citation.number == 1 and citation.document_id == world.doc("acme", "refunds.pdf")
    assert "[1] Refund policy, p. 2: Refunds are paid to the original payment method" in prompt


class ScriptedLLM:
    """An LLM port that answers with a fixed text (to cite numbers a real model might invent)."""

    model = "scripted"

    def __init__(self, text: str) -> None:
        self.text = text
        self.prompts: list[str] = []

    def complete(self, system: str, user: str, max_tokens: int) -> Completion:
        self.prompts.append(f"{system}\n{user}")
        return Completion(self.text, 10, 5, self.model)

    def stream(self, system: str, user: str, max_tokens: int):
        self.prompts.append(f"{system}\n{user}")
        yield from (self.text[i : i + 4] for i in range(0, len(self.text), 4))


def test_invented_citations_are_dropped_and_the_rest_renumbered(world) -> None:
    llm = ScriptedLLM("Refunds are paid in 5 days [3]. Leave is 20 days [1]. Made up [9].")
    response = service_for(world, llm=llm).ask("acme", QueryRequest(question="refund leave days", mode="sparse", top_k=4))
    assert response.answer == "Refunds are paid in 5 days [1]. Leave is 20 days [2]. Made up."
    assert [c.number for c in response.citations] == [1, 2]
    prompt = llm.prompts[0]
    for citation in response.citations:
        assert citation.snippet.split("…")[0][:20] in prompt


def test_an_answer_that_cites_nothing_still_returns_the_sources_it_was_given(world) -> None:
    llm = ScriptedLLM("Refunds take five days.")
    response = service_for(world, llm=llm).ask("acme", QueryRequest(question="refund days", mode="sparse", top_k=3))
    assert response.answer == "Refunds take five days."
    prompt_numbers = [int(n) for n in re.findall(r"^\[(\d+)\] ", llm.prompts[0], re.M)]
    assert [c.number for c in response.citations] == prompt_numbers and prompt_numbers


def test_context_budget_limits_the_sources_in_the_prompt(world) -> None:
    from ragline.text import count_tokens

    question = QueryRequest(question="leave days refund", mode="sparse", top_k=6)
    hits = service_for(world).search("acme", question.question, mode="sparse", top_k=6).hits
    llm = ScriptedLLM("Leave [1].")
    service_for(world, llm=llm, budget=60).ask("acme", question)
    lines = [line for line in llm.prompts[0].splitlines() if re.match(r"^\[\d+\] ", line)]
    assert 1 <= len(lines) < len(hits)
    assert sum(count_tokens(line) + 1 for line in lines) <= 60
    assert [int(re.match(r"^\[(\d+)\]", line).group(1)) for line in lines] == list(range(1, len(lines) + 1))


def test_the_extractive_answer_reads_every_passage_asked_for_whatever_the_budget(world) -> None:
    """The token budget is the model's; an extractive answer quotes a few sentences, so a
    budget that fits one passage does not hide the others from it."""
    question = QueryRequest(question="leave days refund", mode="sparse", top_k=6)
    roomy = service_for(world).ask("acme", question)
    tight = service_for(world, budget=60).ask("acme", question)
    assert len(tight.citations) > 1 and tight.answer == roomy.answer


def test_stream_delivers_deltas_with_citations_validated_and_renumbered(world) -> None:
    """What streams is what the answer is: invented numbers dropped, sources renumbered 1..n."""
    llm = ScriptedLLM("Leave is 20 days [2]. Invented [8].")
    deltas: list[str] = []
    service = service_for(world, llm=llm)
    response = service.ask_stream("acme", QueryRequest(question="leave days", mode="sparse"), deltas.append)
    assert "".join(deltas) == response.answer == "Leave is 20 days [1]. Invented."
    assert [c.number for c in response.citations] == [1]
    prompt_source_2 = [line for line in llm.prompts[0].splitlines() if line.startswith("[2] ")][0]
    assert response.citations[0].snippet[:30] in prompt_source_2  # [1] is the prompt's source 2


def test_stream_through_a_real_server(world) -> None:
    with OpenAICompatibleServer() as server:
        llm = OpenAILLM("gpt-4o-mini", base_url=server.base_url, api_key="k")
        deltas: list[str] = []
        response = service_for(world, llm=llm).ask_stream(
            "acme", QueryRequest(question="When are refunds paid?", mode="sparse"), deltas.append
        )
    assert len(deltas) > 2 and "".join(deltas).strip() == response.answer


# --------------------------------------------------------------------- query log, feedback


@pytest.fixture
def world_on(database_url: str, tmp_path: Path):
    """The corpus on each catalog backend (a fresh tenant name per test: the DB is shared)."""
    if database_url.startswith("postgresql"):
        migrate(database_url)
    return build_world(tmp_path, catalog_url=database_url)


def test_queries_are_logged_with_stages_tokens_and_cited_documents(world_on) -> None:
    llm = ScriptedLLM("Refunds take 5 days [1].")
    service = service_for(world_on, llm=llm)
    request = QueryRequest(question="When are refunds paid?", mode="sparse", top_k=2)
    miss = service.ask("acme", request)
    hit = service.ask("acme", request)
    logged = world_on.catalog.get_query("acme", miss.query_id)
    assert logged.cache_hit is False and logged.answer_type == "generated" and logged.model == "scripted"
    assert (logged.prompt_tokens, logged.completion_tokens) == (10, 5)
    assert logged.latency_ms_total and logged.latency_ms_search is not None and logged.latency_ms_llm is not None
    assert logged.cited_document_ids == [c.document_id for c in miss.citations]
    assert logged.question == request.question and logged.mode == "sparse" and logged.top_k == 2
    cached = world_on.catalog.get_query("acme", hit.query_id)
    assert cached.cache_hit is True and cached.prompt_tokens == 0 and cached.latency_ms_llm is None


def test_feedback_is_tied_to_the_query_id(world_on) -> None:
    response = service_for(world_on).ask("acme", QueryRequest(question="annual leave"))
    feedback_id = world_on.catalog.add_feedback("acme", response.query_id, "down", "wrong year")
    (record,) = world_on.catalog.list_feedback("acme", query_id=response.query_id)
    assert record.id == feedback_id and record.rating == "down" and record.comment == "wrong year"
    with pytest.raises(NotFoundError):
        world_on.catalog.add_feedback("globex", response.query_id, "up")


def one_document_index(folder, chunks: list[tuple[list[str], str, int | None]]):
    """An edge index holding one document's ``chunks`` (section path, text, page) in order,
    with the hash embedder: the retriever's widening and its neighbours, on real points."""
    from ragline.embeddings.hash_embedder import HashEmbedder
    from ragline.index.edge_index import EdgeIndex
    from ragline.models import IndexPoint
    from ragline.sparse import sparse_document_vector

    index = EdgeIndex(str(folder), "chunks")
    embedder = HashEmbedder(64)
    index.ensure_collection(64, embedder.name)
    index.upsert([
        IndexPoint(id=f"00000000-0000-0000-0000-00000000000{i}", tenant="acme", document_id="d", version="v",
                   chunk_index=i, text=text, source="p.pdf", file_type="pdf", section_path=path,
                   page_start=page, page_end=page, dense=embedder.embed_query(text),
                   sparse=sparse_document_vector(text))
        for i, (path, text, page) in enumerate(chunks)
    ])
    return index, embedder


def test_a_hit_comes_with_its_neighbouring_chunks_of_the_same_section(tmp_path) -> None:
    """The dose table's first rows answer the search; the next chunk (its last rows, same
    section) comes with it, the next section's chunk does not."""
    chunks = [
        (["5 Dosing"], "Table 4 Dose levels of ibrutinib | Level 0: 420 mg daily", 12),
        (["5 Dosing"], "Level -1: 280 mg daily | Level -2: 140 mg daily", 13),
        (["6 Adverse events"], "Atrial fibrillation was reported in 4 participants.", 13),
    ]
    index, embedder = one_document_index(tmp_path, chunks)
    plain = Retriever(index, lambda: embedder, MemoryCache()).search("acme", "ibrutinib dose levels", mode="sparse", limit=1)
    wide = Retriever(index, lambda: embedder, MemoryCache(), neighbour_chunks=1).search(
        "acme", "ibrutinib dose levels", mode="sparse", limit=1)
    assert plain[0].text == chunks[0][1]
    assert wide[0].text == f"{chunks[0][1]}\n{chunks[1][1]}"
    assert (wide[0].chunk_index, wide[0].page_start, wide[0].page_end) == (0, 12, 13)
    index.close()


def test_a_hit_inside_a_better_hits_widened_passage_gives_its_place_to_the_next(tmp_path) -> None:
    """Chunks 0 and 1 of the dosing section both match; with widening, chunk 1 is already in
    chunk 0's passage, so the second place goes to the adverse-events chunk."""
    chunks = [
        (["5 Dosing"], "Ibrutinib dose levels: level 0 is 420 mg of ibrutinib daily.", None),
        (["5 Dosing"], "Ibrutinib dose levels below that: level -1 is 280 mg of ibrutinib daily.", None),
        (["6 Adverse events"], "At reduced ibrutinib dose levels atrial fibrillation was reported in 4 participants.", None),
    ]
    index, embedder = one_document_index(tmp_path, chunks)
    question = "ibrutinib dose levels"
    plain = Retriever(index, lambda: embedder, MemoryCache()).search("acme", question, mode="sparse", limit=2)
    wide = Retriever(index, lambda: embedder, MemoryCache(), neighbour_chunks=1).search(
        "acme", question, mode="sparse", limit=2)
    assert {h.chunk_index for h in plain} == {0, 1}
    assert sorted(h.chunk_index for h in wide) == [0, 2]
    assert chunks[1][1] in next(h.text for h in wide if h.chunk_index == 0)
    index.close()


def test_hybrid_ranks_a_question_across_documents_by_its_dense_vector(world) -> None:
    """Names of documents lead a keyword ranking; what is asked of all of them is in the embedding."""
    calls = []
    index = world.index
    original = index.search

    def search(*args, **kwargs):
        calls.append((kwargs["mode"], kwargs["sparse"] is not None))
        return original(*args, **kwargs)

    retriever = Retriever(index, lambda: world.embedder, MemoryCache())
    index.search = search
    try:
        retriever.search("acme", "Compare the refund periods of the two policies.", mode="hybrid", limit=3)
        retriever.search("acme", "How many days do refunds take?", mode="hybrid", limit=3)
    finally:
        del index.search
    # the second question is fused, then its dense list's best passage is read (second_stage.with_leader)
    assert calls == [("dense", False), ("hybrid", True), ("dense", False)]
