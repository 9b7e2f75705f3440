import type { Hit } from "@/lib/api";
import { baseName, formatLatency, formatPages, formatScore } from "@/lib/format";

/** Ranked passages with document, page and score. */
export function SearchResults({ hits, latencyMs, query }: { hits: Hit[]; latencyMs: number | null; query: string }) {
  if (!hits.length) {
    return (
      <div className="empty-state" data-testid="search-empty" role="status">
        <p className="empty-state__title">No passages matched “{query}”</p>
        <p className="muted">Try other words, or check that your documents have finished indexing.</p>
      </div>
    );
  }
  return (
    <section aria-labelledby="results-title" data-testid="search-results">
      <p className="results-summary muted small" role="status">
        <span id="results-title">
          {hits.length} {hits.length === 1 ? "passage" : "passages"} for “{query}”
        </span>
        {latencyMs !== null ? <> · {formatLatency(latencyMs)}</> : null}
      </p>
      <ol className="results">
        {hits.map((hit, i) => {
          const pages = formatPages(hit.page_start, hit.page_end);
          const name = hit.title?.trim() || baseName(hit.source);
          return (
            <li
              key={`${hit.document_id}-${hit.chunk_index}`}
              className="result card"
              data-testid="search-result"
              data-document-id={hit.document_id}
            >
              <div className="result__header">
                <span className="result__rank" aria-label={`Rank ${i + 1}`}>
                  {i + 1}
                </span>
                <div className="result__title">
                  <span className="result__name" data-testid="result-document">
                    {name}
                  </span>
                  <span className="muted small">
                    {[pages, hit.heading, name !== hit.source ? hit.source : null].filter(Boolean).join(" · ")}
                  </span>
                </div>
                <span className="result__score" title="Relevance score">
                  <span className="visually-hidden">Score </span>
                  {formatScore(hit.score)}
                </span>
              </div>
              <p className="result__snippet">{hit.snippet}</p>
            </li>
          );
        })}
      </ol>
    </section>
  );
}
