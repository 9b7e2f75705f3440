"use client";

import { useEffect, useRef } from "react";
import type { Citation } from "@/lib/api";
import { baseName, formatPages, formatScore } from "@/lib/format";
import { CloseIcon } from "./Icons";

export const CITATION_PANEL_ID = "citation-panel";

/** The cited passage: document, page(s), section and the snippet itself. */
export function CitationPanel({ citation, onClose }: { citation: Citation; onClose: () => void }) {
  const headingRef = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    headingRef.current?.focus();
  }, [citation.number]);

  const pages = formatPages(citation.page_start, citation.page_end);
  const name = citation.title?.trim() || baseName(citation.source);
  const titleId = `${CITATION_PANEL_ID}-title`;

  return (
    <section
      id={CITATION_PANEL_ID}
      className="citation-panel"
      role="region"
      aria-labelledby={titleId}
      data-testid="citation-panel"
      data-citation={citation.number}
      onKeyDown={(event) => {
        if (event.key === "Escape") {
          event.stopPropagation();
          onClose();
        }
      }}
    >
      <header className="citation-panel__header">
        <h3 id={titleId} ref={headingRef} tabIndex={-1} className="citation-panel__title">
          <span className="cite-number" aria-hidden="true">
            {citation.number}
          </span>
          <span className="visually-hidden">Source {citation.number}: </span>
          <span data-testid="citation-document">{name}</span>
        </h3>
        <button type="button" className="icon-button" onClick={onClose} aria-label="Close source">
          <CloseIcon />
        </button>
      </header>
      <dl className="citation-panel__meta">
        {citation.source !== name ? (
          <div>
            <dt>File</dt>
            <dd>{citation.source}</dd>
          </div>
        ) : null}
        {pages ? (
          <div>
            <dt>Location</dt>
            <dd data-testid="citation-pages">{pages}</dd>
          </div>
        ) : null}
        {citation.heading ? (
          <div>
            <dt>Section</dt>
            <dd>{citation.heading}</dd>
          </div>
        ) : null}
        <div>
          <dt>Relevance</dt>
          <dd>{formatScore(citation.score)}</dd>
        </div>
      </dl>
      <blockquote className="citation-panel__snippet" data-testid="citation-snippet">
        {citation.snippet}
      </blockquote>
    </section>
  );
}
