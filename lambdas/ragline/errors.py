"""Error classes the state machines route on.

Step Functions matches `ErrorEquals` against the exception's class name, so these names are
part of the contract with `statemachines/*.asl.json`: rename one and the Retry/Catch breaks
(tests/unit/test_asl.py checks they agree).
"""


class RaglineError(Exception):
    """Base class for errors Ragline raises on purpose."""


class TransientError(RaglineError):
    """Worth retrying: throttling (HTTP 429), timeouts, 5xx from a provider or a store.

    The state machine retries these with backoff and jitter; Lambdas never sleep-and-retry.
    """


class DocumentError(RaglineError):
    """The document itself cannot be processed (corrupt, empty, unsupported, no text layer).

    Permanent: retrying gives the same result. The message is shown to users as the reason,
    so it says which file, what is wrong and what to do.
    """


class ProviderError(RaglineError):
    """A provider (embeddings, LLM, vector store) refused the request for a permanent reason,
    e.g. a bad API key or an unknown model. Fails the document with the reason."""


class NotFoundError(RaglineError):
    """A document, query or resource does not exist for this tenant."""


class SupersededError(RaglineError):
    """This execution no longer owns the document: a newer upload or a delete took it over,
    or the document was failed (e.g. this attempt timed out and woke up late). Not a failure:
    the state machines catch it and end the execution quietly (no dead-letter entry)."""
