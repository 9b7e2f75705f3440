/** How far a document is through the ingestion pipeline, in words. */

import type { DocumentRecord } from "./api";

export const PIPELINE_STEPS = [
  { id: "register", label: "Registering" },
  { id: "extract", label: "Extracting text" },
  { id: "chunk", label: "Splitting into passages" },
  { id: "embed_and_index", label: "Embedding and indexing" },
  { id: "finalize", label: "Finishing" },
] as const;

export type Tone = "processing" | "ready" | "failed" | "deleting" | "deleted";

export interface DocumentState {
  tone: Tone;
  /** Short badge text. */
  label: string;
  /** 1-based step the pipeline is at (0 before it starts). */
  stepNumber: number;
  stepCount: number;
  /** Sentence describing the state, e.g. "Step 3 of 5: Splitting into passages". */
  detail: string;
  /** 0..100 */
  percent: number;
}

export function stepIndex(step: string | null | undefined): number {
  if (!step) return -1;
  return PIPELINE_STEPS.findIndex((s) => s.id === step);
}

export function stepLabel(step: string | null | undefined): string | null {
  const index = stepIndex(step);
  return index >= 0 ? PIPELINE_STEPS[index].label : step ?? null;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

export function describeDocument(doc: DocumentRecord, deleting = false): DocumentState {
  const stepCount = PIPELINE_STEPS.length;
  const index = stepIndex(doc.step);
  if (deleting) {
    return { tone: "deleting", label: "Deleting", stepNumber: 0, stepCount, detail: "Removing the file and its passages…", percent: 0 };
  }
  if (doc.status === "ready") {
    const parts: string[] = [];
    if (doc.chunk_count !== null && doc.chunk_count !== undefined) parts.push(plural(doc.chunk_count, "chunk"));
    if (doc.page_count !== null && doc.page_count !== undefined) parts.push(plural(doc.page_count, "page"));
    return {
      tone: "ready",
      label: "Ready",
      stepNumber: stepCount,
      stepCount,
      detail: parts.length ? `Indexed: ${parts.join(", ")}` : "Indexed",
      percent: 100,
    };
  }
  if (doc.status === "failed") {
    const where = index >= 0 ? ` while ${PIPELINE_STEPS[index].label.toLowerCase()}` : "";
    const reason = doc.error?.trim() || "The reason was not recorded. Try uploading the file again.";
    return {
      tone: "failed",
      label: "Failed",
      stepNumber: Math.max(index + 1, 0),
      stepCount,
      detail: `Failed${where}: ${reason}`,
      percent: index >= 0 ? Math.round(((index + 1) / stepCount) * 100) : 0,
    };
  }
  if (doc.status === "deleted") {
    return { tone: "deleted", label: "Deleted", stepNumber: 0, stepCount, detail: "Deleted", percent: 0 };
  }
  // processing (or any state the app does not know yet)
  if (index < 0) {
    return { tone: "processing", label: "Queued", stepNumber: 0, stepCount, detail: "Waiting to start…", percent: 0 };
  }
  return {
    tone: "processing",
    label: "Processing",
    stepNumber: index + 1,
    stepCount,
    detail: `Step ${index + 1} of ${stepCount}: ${PIPELINE_STEPS[index].label}`,
    // a step in progress counts as half done
    percent: Math.round(((index + 0.5) / stepCount) * 100),
  };
}

export function isBusy(doc: DocumentRecord): boolean {
  return doc.status === "processing";
}
