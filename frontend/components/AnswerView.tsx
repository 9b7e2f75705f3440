"use client";

import { Fragment, useId, useRef, useState } from "react";
import type { Citation, QueryResponse } from "@/lib/api";
import { baseName, formatLatency, formatPages } from "@/lib/format";
import { CITATION_PANEL_ID, CitationPanel } from "./CitationPanel";

export type AnswerPart = { kind: "text"; text: string } | { kind: "cite"; numbers: number[]; raw: string };

const MARKER = /\[(\d+(?:\s*[,;]\s*\d+)*)\]/g;

/** Splits answer text into plain text and citation markers: "[1]", "[2, 3]". */
export function splitAnswer(text: string): AnswerPart[] {
  const parts: AnswerPart[] = [];
  let last = 0;
  for (const match of text.matchAll(MARKER)) {
    const index = match.index ?? 0;
    if (index > last) parts.push({ kind: "text", text: text.slice(last, index) });
    parts.push({
      kind: "cite",
      raw: match[0],
      numbers: match[1].split(/[,;]/).map((n) => Number.parseInt(n.trim(), 10)),
    });
    last = index + match[0].length;
  }
  if (last < text.length) parts.push({ kind: "text", text: text.slice(last) });
  return parts;
}

function citationLabel(citation: Citation): string {
  const name = citation.title?.trim() || baseName(citation.source);
  const pages = formatPages(citation.page_start, citation.page_end);
  return pages ? `${name}, ${pages.toLowerCase()}` : name;
}

/**
 * An answer with its clickable citations. `pending`: the answer is still being written
 * (streamed); its sources and timing are not known yet.
 */
export function AnswerView({
  response,
  question,
  pending = false,
}: {
  response: QueryResponse;
  question?: string;
  pending?: boolean;
}) {
  const ids = useId();
  const [openNumber, setOpenNumber] = useState<number | null>(null);
  const triggerRef = useRef<HTMLButtonElement | null>(null);
  const byNumber = new Map(response.citations.map((c) => [c.number, c]));
  const open = openNumber === null ? null : byNumber.get(openNumber) ?? null;

  const toggle = (number: number, trigger: HTMLButtonElement) => {
    triggerRef.current = trigger;
    setOpenNumber((current) => (current === number ? null : number));
  };
  const close = () => {
    setOpenNumber(null);
    triggerRef.current?.focus();
  };

  const renderMarker = (number: number, key: string) => {
    const citation = byNumber.get(number);
    if (!citation) return <Fragment key={key}>[{number}]</Fragment>;
    return (
      <button
        key={key}
        type="button"
        className="cite-marker"
        data-testid="citation-marker"
        data-citation={number}
        aria-label={`Source ${number}: ${citationLabel(citation)}`}
        aria-expanded={openNumber === number}
        aria-controls={openNumber === number ? CITATION_PANEL_ID : undefined}
        onClick={(event) => toggle(number, event.currentTarget)}
      >
        {number}
      </button>
    );
  };

  return (
    <article
      className="answer card"
      aria-labelledby={`${ids}-title`}
      aria-busy={pending || undefined}
      data-testid="answer"
      data-query-id={response.query_id}
      data-state={pending ? "writing" : "complete"}
    >
      <header className="answer__header">
        <h2 id={`${ids}-title`} className="answer__title">
          {question ? <span className="answer__question">{question}</span> : "Answer"}
        </h2>
        <ul className="answer__meta" aria-label="Answer details">
          {response.cached ? (
            <li>
              <span className="badge badge--info" data-testid="cached-badge" title="Served from the answer cache">
                Cached
              </span>
            </li>
          ) : null}
          {pending ? null : (
            <li>
              <span className="meta-item" data-testid="latency">
                <span className="visually-hidden">Answered in </span>
                {formatLatency(response.latency_ms?.total)}
              </span>
            </li>
          )}
          {response.answer_type === "extractive" ? (
            <li>
              <span className="badge badge--neutral" data-testid="extractive-badge">
                Extractive
              </span>
            </li>
          ) : response.model ? (
            <li>
              <span className="meta-item">{response.model}</span>
            </li>
          ) : null}
        </ul>
      </header>

      {response.answer_type === "extractive" ? (
        <p className="notice notice--info small">
          No language model is configured, so this answer is made of the best-matching passages, quoted as they are.
        </p>
      ) : null}

      <div className="answer__text" data-testid="answer-text">
        {splitAnswer(response.answer).map((part, i) =>
          part.kind === "text" ? (
            <Fragment key={i}>{part.text}</Fragment>
          ) : (
            <span key={i} className="cite-group">
              {part.numbers.map((n, j) => renderMarker(n, `${i}-${j}`))}
            </span>
          ),
        )}
      </div>

      {open ? <CitationPanel citation={open} onClose={close} /> : null}

      {pending && !response.citations.length ? (
        <p className="muted small" role="status" data-testid="answer-writing">
          Writing…
        </p>
      ) : response.citations.length ? (
        <section className="sources" aria-labelledby={`${ids}-sources`}>
          <h3 id={`${ids}-sources`} className="sources__title">
            Sources
          </h3>
          <ol className="sources__list">
            {response.citations.map((citation) => (
              <li key={citation.number}>
                <button
                  type="button"
                  className="source-item"
                  data-testid="citation-source"
                  data-citation={citation.number}
                  data-source={citation.source}
                  aria-expanded={openNumber === citation.number}
                  onClick={(event) => toggle(citation.number, event.currentTarget)}
                >
                  <span className="cite-number" aria-hidden="true">
                    {citation.number}
                  </span>
                  <span className="source-item__body">
                    <span className="source-item__name">{citation.title?.trim() || baseName(citation.source)}</span>
                    <span className="source-item__where">
                      {[formatPages(citation.page_start, citation.page_end), citation.heading].filter(Boolean).join(" · ") ||
                        citation.source}
                    </span>
                  </span>
                </button>
              </li>
            ))}
          </ol>
        </section>
      ) : (
        <p className="muted small" data-testid="no-citations">
          No sources were cited for this answer.
        </p>
      )}
    </article>
  );
}
