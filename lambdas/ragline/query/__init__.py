"""The query use case: retrieval (hybrid/dense/sparse), grounded answers with citations, the
answer cache and the query log. `QueryService` is the entry point; the API and CLI call it."""
