"""The one table of error statuses that the JSON and the streamed routes both answer with."""

from __future__ import annotations

from ragline.api.errors import _STATUSES, describe_error
from ragline.errors import TransientError
from ragline.llm import LLMUnavailableError


def test_every_error_class_in_the_table_can_be_reached():
    # First match wins: a class listed after one of its parents would never answer.
    for position, (cls, _, code) in enumerate(_STATUSES):
        parents = [earlier for earlier, _, _ in _STATUSES[:position] if issubclass(cls, earlier)]
        assert not parents, f"{cls.__name__} ({code}) is listed after its parent {parents[0].__name__}"


def test_an_unavailable_answer_model_is_named_not_a_generic_outage():
    assert describe_error(LLMUnavailableError("the answer model timed out"))[:2] == (503, "llm_unavailable")


def test_a_store_outage_says_to_try_again_and_anything_unknown_is_internal():
    assert describe_error(TransientError("the catalog is unavailable")) == (
        503, "service_unavailable", "the catalog is unavailable. Try again in a moment.")
    status, code, message = describe_error(KeyError("surprise"))
    assert (status, code) == (500, "internal_error") and "surprise" not in message
