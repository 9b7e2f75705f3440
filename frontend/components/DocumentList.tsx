"use client";

import { useCallback, useEffect, useRef, useState } from "react";
import type { ApiClient, DocumentRecord, ListDocumentsResponse } from "@/lib/api";
import { describeDocument, isBusy, PIPELINE_STEPS, type DocumentState } from "@/lib/pipeline";
import { formatBytes, formatDateTime } from "@/lib/format";
import { FileIcon } from "./Icons";
import { Spinner } from "./Spinner";

export const POLL_INTERVAL_MS = 2000;

/** An upload whose document the list has not seen yet (ingestion registers it shortly). */
export interface PendingUpload {
  document_id: string;
  file_name: string;
}

type DocsApi = Pick<ApiClient, "listDocuments" | "deleteDocument">;

export function StatusBadge({ state }: { state: DocumentState }) {
  return (
    <span className={`badge badge--${state.tone}`} data-testid="document-status">
      {state.tone === "processing" || state.tone === "deleting" ? <span className="badge__pulse" aria-hidden="true" /> : null}
      {state.label}
    </span>
  );
}

export function PipelineProgress({ state, name }: { state: DocumentState; name: string }) {
  return (
    <div className="pipeline">
      <div
        className={`progress progress--${state.tone}`}
        role="progressbar"
        aria-label={`Indexing progress for ${name}`}
        aria-valuemin={0}
        aria-valuemax={state.stepCount}
        aria-valuenow={state.stepNumber}
        aria-valuetext={state.detail}
      >
        <div className="progress__bar" style={{ width: `${state.percent}%` }} />
      </div>
      <ol className="pipeline__steps" aria-hidden="true">
        {PIPELINE_STEPS.map((step, i) => (
          <li
            key={step.id}
            className={
              i + 1 < state.stepNumber || state.tone === "ready"
                ? "done"
                : i + 1 === state.stepNumber
                  ? state.tone === "failed"
                    ? "failed"
                    : "current"
                  : ""
            }
            title={step.label}
          />
        ))}
      </ol>
    </div>
  );
}

export function DocumentList({
  api,
  pendingUploads = [],
  refreshKey = 0,
  pollIntervalMs = POLL_INTERVAL_MS,
  canDelete = true,
}: {
  api: DocsApi;
  pendingUploads?: PendingUpload[];
  refreshKey?: number;
  pollIntervalMs?: number;
  /** Editors and admins delete; for readers the control is not rendered at all. */
  canDelete?: boolean;
}) {
  const [documents, setDocuments] = useState<DocumentRecord[] | null>(null);
  const [extra, setExtra] = useState<DocumentRecord[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [deleting, setDeleting] = useState<Set<string>>(() => new Set());
  const [confirmId, setConfirmId] = useState<string | null>(null);
  const [rowErrors, setRowErrors] = useState<Record<string, string>>({});
  const [announcement, setAnnouncement] = useState("");
  const previous = useRef<Map<string, DocumentRecord> | null>(null);
  const deletingRef = useRef(deleting);
  const morePagesLoaded = useRef(false);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    deletingRef.current = deleting;
  }, [deleting]);

  const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

  const applyPage = useCallback((page: ListDocumentsResponse) => {
    const fresh = page.documents.filter((d) => d.status !== "deleted");
    // Announce what changed since the last look (screen readers hear it via aria-live).
    const before = previous.current;
    const messages: string[] = [];
    const seen = new Set(fresh.map((d) => d.id));
    if (before) {
      for (const doc of fresh) {
        const old = before.get(doc.id);
        if (old && old.status !== doc.status) {
          if (doc.status === "ready") messages.push(`${doc.file_name} is ready.`);
          else if (doc.status === "failed") messages.push(`${doc.file_name} failed: ${doc.error ?? "unknown reason"}.`);
        }
      }
      for (const [id, old] of before) {
        if (!seen.has(id) && deletingRef.current.has(id)) messages.push(`${old.file_name} was deleted.`);
      }
    }
    previous.current = new Map(fresh.map((d) => [d.id, d]));
    if (messages.length) setAnnouncement(messages.join(" "));
    setDeleting((current) => {
      if (!current.size) return current;
      const next = new Set([...current].filter((id) => seen.has(id)));
      return next.size === current.size ? current : next;
    });
    setDocuments(fresh);
    if (!morePagesLoaded.current) setNextCursor(page.next_cursor);
    setLoadError(null);
  }, []);

  // First load, explicit refreshes, and polling while anything is in flight.
  useEffect(() => {
    const controller = new AbortController();
    api.listDocuments({ limit: 50 }, controller.signal).then(
      (page) => {
        if (!controller.signal.aborted) applyPage(page);
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setLoadError(errorText(error));
      },
    );
    return () => controller.abort();
  }, [api, applyPage, refreshKey, tick]);

  const shown = (() => {
    if (!documents) return null;
    const ids = new Set(documents.map((d) => d.id));
    return [...documents, ...extra.filter((d) => !ids.has(d.id) && d.status !== "deleted")];
  })();
  const known = new Set(shown?.map((d) => d.id) ?? []);
  const waitingUploads = pendingUploads.filter((p) => !known.has(p.document_id));
  const needsPolling =
    Boolean(shown?.some(isBusy)) || deleting.size > 0 || waitingUploads.length > 0 || (loadError !== null && documents !== null);

  useEffect(() => {
    if (!needsPolling) return;
    const timer = window.setTimeout(() => setTick((n) => n + 1), pollIntervalMs);
    return () => window.clearTimeout(timer);
  }, [needsPolling, documents, pollIntervalMs, loadError]);

  const loadMore = async () => {
    if (!nextCursor) return;
    setLoadingMore(true);
    try {
      const page = await api.listDocuments({ limit: 50, cursor: nextCursor });
      morePagesLoaded.current = true;
      setExtra((prev) => [...prev, ...page.documents]);
      setNextCursor(page.next_cursor);
    } catch (error) {
      setLoadError(errorText(error));
    } finally {
      setLoadingMore(false);
    }
  };

  const remove = async (doc: DocumentRecord) => {
    setConfirmId(null);
    setRowErrors((prev) => {
      const next = { ...prev };
      delete next[doc.id];
      return next;
    });
    setDeleting((current) => new Set(current).add(doc.id));
    try {
      await api.deleteDocument(doc.id);
      setAnnouncement(`Deleting ${doc.file_name}…`);
    } catch (error) {
      setDeleting((current) => {
        const next = new Set(current);
        next.delete(doc.id);
        return next;
      });
      setRowErrors((prev) => ({ ...prev, [doc.id]: `Could not delete: ${errorText(error)}` }));
    }
  };

  return (
    <section className="documents card" aria-labelledby="documents-title" aria-busy={documents === null}>
      <div className="card__header">
        <h2 id="documents-title" className="card__title">
          Your documents
        </h2>
        <button
          type="button"
          className="button button--ghost button--small"
          onClick={() => setTick((n) => n + 1)}
          data-testid="refresh-documents"
        >
          Refresh
        </button>
      </div>

      <div className="visually-hidden" aria-live="polite" data-testid="documents-announcer">
        {announcement}
      </div>

      {loadError ? (
        <div className="notice notice--error" role="alert" data-testid="documents-error">
          <p>Could not load your documents: {loadError}</p>
          <button type="button" className="button button--small" onClick={() => setTick((n) => n + 1)}>
            Try again
          </button>
        </div>
      ) : null}

      {shown === null ? (
        loadError ? null : (
          <div className="center-state" role="status" data-testid="documents-loading">
            <Spinner /> Loading documents…
          </div>
        )
      ) : shown.length === 0 && waitingUploads.length === 0 ? (
        <div className="empty-state" data-testid="documents-empty">
          <FileIcon className="empty-state__icon" />
          <p className="empty-state__title">No documents yet</p>
          <p className="muted">Upload PDFs, Word files, web pages or notes above, then ask questions about them.</p>
        </div>
      ) : (
        <ul className="doc-list" data-testid="document-list" aria-label="Documents">
          {waitingUploads.map((p) => (
            <li
              key={p.document_id}
              className="doc-row"
              data-testid="document-row"
              data-document-id={p.document_id}
              data-file-name={p.file_name}
              data-status="queued"
            >
              <div className="doc-row__main">
                <span className="doc-row__name">{p.file_name}</span>
                <span className="muted small">Uploaded</span>
              </div>
              <div className="doc-row__status">
                <StatusBadge state={describeDocument({ status: "processing", step: null } as DocumentRecord)} />
                <span className="muted small">Waiting for indexing to start…</span>
              </div>
            </li>
          ))}
          {shown.map((doc) => {
            const isDeleting = deleting.has(doc.id);
            const state = describeDocument(doc, isDeleting);
            const meta = [doc.file_type?.toUpperCase(), formatBytes(doc.size_bytes), formatDateTime(doc.updated_at)]
              .filter(Boolean)
              .join(" · ");
            return (
              <li
                key={doc.id}
                className={`doc-row doc-row--${state.tone}`}
                data-testid="document-row"
                data-document-id={doc.id}
                data-file-name={doc.file_name}
                data-status={isDeleting ? "deleting" : doc.status}
              >
                <div className="doc-row__main">
                  <span className="doc-row__name" title={doc.key}>
                    {doc.file_name}
                  </span>
                  {meta ? <span className="muted small">{meta}</span> : null}
                </div>
                <div className="doc-row__status">
                  <StatusBadge state={state} />
                  {state.tone === "processing" ? <PipelineProgress state={state} name={doc.file_name} /> : null}
                  <span
                    className={state.tone === "failed" ? "doc-row__detail field-error" : "doc-row__detail muted small"}
                    data-testid="document-detail"
                  >
                    {state.detail}
                  </span>
                  {rowErrors[doc.id] ? (
                    <span className="field-error" role="alert">
                      {rowErrors[doc.id]}
                    </span>
                  ) : null}
                </div>
                <div className="doc-row__actions">
                  {!canDelete ? null : confirmId === doc.id ? (
                    <div className="confirm" role="group" aria-label={`Confirm deleting ${doc.file_name}`}>
                      <span className="small">Delete this document and its passages?</span>
                      <button
                        type="button"
                        className="button button--danger button--small"
                        data-testid="confirm-delete"
                        onClick={() => void remove(doc)}
                      >
                        Delete
                      </button>
                      <button
                        type="button"
                        className="button button--ghost button--small"
                        onClick={() => setConfirmId(null)}
                        autoFocus
                      >
                        Cancel
                      </button>
                    </div>
                  ) : (
                    <button
                      type="button"
                      className="button button--ghost button--small button--danger-text"
                      data-testid="delete-document"
                      aria-label={`Delete ${doc.file_name}`}
                      disabled={isDeleting}
                      onClick={() => setConfirmId(doc.id)}
                    >
                      Delete
                    </button>
                  )}
                </div>
              </li>
            );
          })}
        </ul>
      )}

      {nextCursor ? (
        <div className="documents__more">
          <button type="button" className="button button--small" onClick={() => void loadMore()} disabled={loadingMore}>
            {loadingMore ? "Loading…" : "Show more"}
          </button>
        </div>
      ) : null}
    </section>
  );
}
