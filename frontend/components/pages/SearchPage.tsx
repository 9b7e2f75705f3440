"use client";

import { useRef, useState, type FormEvent } from "react";
import { ApiError, type SearchMode, type SearchResponse } from "@/lib/api";
import { useApi } from "../AppProvider";
import { SearchResults } from "../SearchResults";
import { Spinner } from "../Spinner";

type State =
  | { kind: "idle" }
  | { kind: "loading" }
  | { kind: "error"; message: string; field: string | null }
  | { kind: "done"; query: string; response: SearchResponse };

export function SearchPage() {
  const api = useApi();
  const [query, setQuery] = useState("");
  const [mode, setMode] = useState<SearchMode>("hybrid");
  const [topK, setTopK] = useState(10);
  const [state, setState] = useState<State>({ kind: "idle" });
  const controller = useRef<AbortController | null>(null);

  const run = async (event?: FormEvent) => {
    event?.preventDefault();
    const q = query.trim();
    if (!q) {
      setState({ kind: "error", message: "Type something to search for.", field: "query.q" });
      return;
    }
    controller.current?.abort();
    const current = new AbortController();
    controller.current = current;
    setState({ kind: "loading" });
    try {
      const response = await api.search({ q, top_k: topK, mode }, current.signal);
      setState({ kind: "done", query: q, response });
    } catch (error) {
      if (current.signal.aborted) return;
      setState({
        kind: "error",
        message: error instanceof Error ? error.message : String(error),
        field: error instanceof ApiError ? error.field : null,
      });
    }
  };

  const queryError = state.kind === "error" && state.field === "query.q" ? state.message : null;

  return (
    <div className="page">
      <div className="page__intro">
        <h1 className="page__title">Search passages</h1>
        <p className="muted">Find the passages that match, ranked, with their document, page and score.</p>
      </div>
      <form className="search card" role="search" onSubmit={run} aria-busy={state.kind === "loading"} noValidate>
        <div className="search__row">
          <div className="field field--grow">
            <label htmlFor="search-q" className="label">
              Search
            </label>
            <input
              id="search-q"
              type="search"
              className="input"
              data-testid="search-input"
              value={query}
              maxLength={2000}
              placeholder="e.g. crosswind landing"
              aria-invalid={queryError ? true : undefined}
              aria-describedby={queryError ? "search-error" : undefined}
              onChange={(e) => setQuery(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor="search-mode" className="label">
              Retrieval
            </label>
            <select id="search-mode" className="input" value={mode} onChange={(e) => setMode(e.target.value as SearchMode)}>
              <option value="hybrid">Hybrid</option>
              <option value="dense">Meaning</option>
              <option value="sparse">Keywords</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor="search-topk" className="label">
              Results
            </label>
            <select id="search-topk" className="input" value={topK} onChange={(e) => setTopK(Number(e.target.value))}>
              {[5, 10, 20].map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </div>
          <button type="submit" className="button button--primary search__button" data-testid="search-button" disabled={state.kind === "loading"}>
            Search
          </button>
        </div>
        {queryError ? (
          <p id="search-error" className="field-error" role="alert">
            {queryError}
          </p>
        ) : null}
      </form>

      <div aria-live="polite">
        {state.kind === "idle" ? (
          <div className="empty-state" data-testid="search-idle">
            <p className="empty-state__title">Search across all your documents</p>
            <p className="muted">Results show the best-matching passages, not a written answer.</p>
          </div>
        ) : null}
        {state.kind === "loading" ? (
          <div className="center-state" role="status">
            <Spinner /> Searching…
          </div>
        ) : null}
        {state.kind === "error" && !queryError ? (
          <div className="notice notice--error" role="alert" data-testid="search-error">
            <p>{state.message}</p>
          </div>
        ) : null}
        {state.kind === "done" ? (
          <SearchResults hits={state.response.hits} latencyMs={state.response.latency_ms} query={state.query} />
        ) : null}
      </div>
    </div>
  );
}
