/** Small display helpers shared by the views. */

export function formatLatency(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return "";
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** "Page 3", "Pages 3–5", or null when the source has no pages. */
export function formatPages(start: number | null | undefined, end: number | null | undefined): string | null {
  if (start === null || start === undefined) return null;
  if (end === null || end === undefined || end === start) return `Page ${start}`;
  return `Pages ${start}–${end}`;
}

export function formatScore(score: number): string {
  return Number.isFinite(score) ? score.toFixed(3) : "—";
}

/** The last path segment of a source key, e.g. "reports/2024/q1.pdf" -> "q1.pdf". */
export function baseName(path: string): string {
  const parts = path.split("/").filter(Boolean);
  return parts.length ? parts[parts.length - 1] : path;
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}
