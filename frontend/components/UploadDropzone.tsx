"use client";

import { useCallback, useEffect, useRef, useState, type DragEvent } from "react";
import { uploadToStorage, type ApiClient, type CreateUploadResponse } from "@/lib/api";
import { formatBytes } from "@/lib/format";
import { ACCEPTED_EXTENSIONS, contentTypeForName } from "@/lib/formats";
import { CloseIcon, UploadIcon } from "./Icons";

export { ACCEPTED_EXTENSIONS };

/** The browser's type for the file, or the registry's for its extension. */
export function contentTypeFor(file: File): string {
  if (file.type) return file.type;
  return contentTypeForName(file.name);
}

type UploadStatus = "queued" | "preparing" | "uploading" | "done" | "failed" | "cancelled";

export interface UploadItem {
  id: string;
  file: File;
  status: UploadStatus;
  loaded: number;
  total: number;
  error: string | null;
  documentId: string | null;
}

const MAX_PARALLEL = 3;
let counter = 0;

function percentOf(item: UploadItem): number {
  if (item.status === "done") return 100;
  if (!item.total) return 0;
  return Math.min(100, Math.round((item.loaded / item.total) * 100));
}

function statusText(item: UploadItem): string {
  switch (item.status) {
    case "queued":
      return "Waiting to upload…";
    case "preparing":
      return "Preparing upload…";
    case "uploading":
      return `Uploading… ${percentOf(item)}%`;
    case "done":
      return "Uploaded — indexing has started";
    case "cancelled":
      return "Cancelled";
    case "failed":
      return `Failed: ${item.error ?? "the upload did not complete."}`;
  }
}

export function UploadDropzone({
  api,
  onUploaded,
}: {
  api: Pick<ApiClient, "createUpload">;
  onUploaded?: (upload: CreateUploadResponse, file: File) => void;
}) {
  const [items, setItems] = useState<UploadItem[]>([]);
  const [dragging, setDragging] = useState(false);
  const [announcement, setAnnouncement] = useState("");
  const controllers = useRef(new Map<string, AbortController>());
  const active = useRef(0);
  const waiting = useRef<string[]>([]);
  const itemsRef = useRef<UploadItem[]>([]);
  const inputRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    itemsRef.current = items;
  }, [items]);

  useEffect(() => {
    const running = controllers.current;
    return () => {
      for (const controller of running.values()) controller.abort();
    };
  }, []);

  const update = useCallback((id: string, patch: Partial<UploadItem>) => {
    setItems((prev) => prev.map((item) => (item.id === id ? { ...item, ...patch } : item)));
  }, []);

  const runOne = useCallback(
    async (item: UploadItem) => {
      const controller = new AbortController();
      controllers.current.set(item.id, controller);
      update(item.id, { status: "preparing", error: null, loaded: 0, total: item.file.size });
      try {
        const created = await api.createUpload({
          file_name: item.file.name,
          content_type: contentTypeFor(item.file),
          size_bytes: item.file.size,
        });
        if (controller.signal.aborted) throw new DOMException("cancelled", "AbortError");
        update(item.id, { status: "uploading", documentId: created.document_id });
        await uploadToStorage(
          created.upload,
          item.file,
          ({ loaded, total }) => update(item.id, { loaded, total }),
          controller.signal,
        );
        update(item.id, { status: "done", loaded: item.file.size, total: item.file.size });
        setAnnouncement(`${item.file.name} uploaded. Indexing has started.`);
        onUploaded?.(created, item.file);
      } catch (error) {
        if (controller.signal.aborted) {
          update(item.id, { status: "cancelled" });
          setAnnouncement(`Upload of ${item.file.name} cancelled.`);
        } else {
          const message = error instanceof Error ? error.message : String(error);
          update(item.id, { status: "failed", error: message });
          setAnnouncement(`${item.file.name} failed to upload: ${message}`);
        }
      } finally {
        controllers.current.delete(item.id);
      }
    },
    [api, onUploaded, update],
  );

  const pump = useCallback(() => {
    const step = () => {
      while (active.current < MAX_PARALLEL && waiting.current.length) {
        const id = waiting.current.shift()!;
        const item = itemsRef.current.find((i) => i.id === id);
        if (!item || item.status !== "queued") continue;
        active.current += 1;
        void runOne(item).finally(() => {
          active.current -= 1;
          step();
        });
      }
    };
    step();
  }, [runOne]);

  const enqueue = useCallback(
    (newItems: UploadItem[]) => {
      itemsRef.current = [...itemsRef.current, ...newItems];
      waiting.current.push(...newItems.map((i) => i.id));
      pump();
    },
    [pump],
  );

  const addFiles = useCallback(
    (files: File[]) => {
      if (!files.length) return;
      const newItems: UploadItem[] = files.map((file) => ({
        id: `upload-${++counter}`,
        file,
        status: "queued",
        loaded: 0,
        total: file.size,
        error: null,
        documentId: null,
      }));
      setItems((prev) => [...prev, ...newItems]);
      setAnnouncement(`${files.length} ${files.length === 1 ? "file" : "files"} added to the upload queue.`);
      enqueue(newItems);
    },
    [enqueue],
  );

  const retry = (item: UploadItem) => {
    const queued: UploadItem = { ...item, status: "queued", error: null, loaded: 0 };
    setItems((prev) => prev.map((i) => (i.id === item.id ? queued : i)));
    itemsRef.current = itemsRef.current.map((i) => (i.id === item.id ? queued : i));
    waiting.current.push(item.id);
    pump();
  };

  const cancel = (item: UploadItem) => {
    const controller = controllers.current.get(item.id);
    if (controller) {
      controller.abort();
    } else {
      waiting.current = waiting.current.filter((id) => id !== item.id);
      update(item.id, { status: "cancelled" });
    }
  };

  const clearFinished = () =>
    setItems((prev) => prev.filter((i) => i.status !== "done" && i.status !== "cancelled" && i.status !== "failed"));

  const onDrop = (event: DragEvent<HTMLDivElement>) => {
    event.preventDefault();
    setDragging(false);
    addFiles(Array.from(event.dataTransfer?.files ?? []));
  };

  const finished = items.some((i) => i.status === "done" || i.status === "cancelled" || i.status === "failed");

  return (
    <section className="upload card" aria-labelledby="upload-title">
      <h2 id="upload-title" className="card__title">
        Upload documents
      </h2>
      <div
        className={`dropzone${dragging ? " dropzone--active" : ""}`}
        data-testid="dropzone"
        onDragEnter={(event) => {
          event.preventDefault();
          setDragging(true);
        }}
        onDragOver={(event) => {
          event.preventDefault();
          if (event.dataTransfer) event.dataTransfer.dropEffect = "copy";
        }}
        onDragLeave={(event) => {
          if (!event.currentTarget.contains(event.relatedTarget as Node | null)) setDragging(false);
        }}
        onDrop={onDrop}
      >
        <UploadIcon className="dropzone__icon" />
        <p className="dropzone__text">
          <strong>Drag and drop files here</strong>
          <span className="muted"> or </span>
        </p>
        <input
          ref={inputRef}
          id="file-input"
          className="visually-hidden"
          type="file"
          multiple
          accept={ACCEPTED_EXTENSIONS.join(",")}
          data-testid="file-input"
          aria-describedby="upload-hint"
          onChange={(event) => {
            addFiles(Array.from(event.target.files ?? []));
            event.target.value = "";
          }}
        />
        <label htmlFor="file-input" className="button button--primary dropzone__button">
          Choose files
        </label>
        <p id="upload-hint" className="muted small">
          PDF, Word (.docx), HTML, Markdown, plain text or CSV. Files upload straight to storage; indexing starts when each
          one arrives.
        </p>
      </div>

      <div className="visually-hidden" aria-live="polite" data-testid="upload-announcer">
        {announcement}
      </div>

      {items.length ? (
        <>
          <ul className="upload-list" aria-label="Uploads" data-testid="upload-list">
            {items.map((item) => {
              const percent = percentOf(item);
              const busy = item.status === "queued" || item.status === "preparing" || item.status === "uploading";
              return (
                <li
                  key={item.id}
                  className={`upload-item upload-item--${item.status}`}
                  data-testid="upload-item"
                  data-status={item.status}
                  data-file-name={item.file.name}
                  data-document-id={item.documentId ?? undefined}
                >
                  <div className="upload-item__top">
                    <span className="upload-item__name">{item.file.name}</span>
                    <span className="upload-item__size muted small">{formatBytes(item.file.size)}</span>
                  </div>
                  <div
                    className="progress"
                    role="progressbar"
                    aria-label={`Upload of ${item.file.name}`}
                    aria-valuemin={0}
                    aria-valuemax={100}
                    aria-valuenow={percent}
                    aria-valuetext={`${percent}%`}
                    data-testid="upload-progress"
                  >
                    <div className="progress__bar" style={{ width: `${percent}%` }} />
                  </div>
                  <div className="upload-item__bottom">
                    <span
                      className={item.status === "failed" ? "field-error" : "muted small"}
                      data-testid="upload-status"
                    >
                      {statusText(item)}
                    </span>
                    {busy ? (
                      <button
                        type="button"
                        className="button button--ghost button--small"
                        onClick={() => cancel(item)}
                        aria-label={`Cancel upload of ${item.file.name}`}
                      >
                        <CloseIcon /> Cancel
                      </button>
                    ) : item.status === "failed" || item.status === "cancelled" ? (
                      <button
                        type="button"
                        className="button button--ghost button--small"
                        onClick={() => retry(item)}
                        aria-label={`Retry upload of ${item.file.name}`}
                      >
                        Retry
                      </button>
                    ) : null}
                  </div>
                </li>
              );
            })}
          </ul>
          {finished ? (
            <div className="upload__footer">
              <button type="button" className="button button--ghost button--small" onClick={clearFinished}>
                Clear finished
              </button>
            </div>
          ) : null}
        </>
      ) : null}
    </section>
  );
}
