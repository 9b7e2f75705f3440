/**
 * The Insights page's CSV export: every figure of GET /insights as one tidy table
 * (section, item, metric, value), so a spreadsheet can pivot it and a test can compare it
 * with the API's JSON cell by cell.
 */

import type { Insights } from "./api";

export const CSV_HEADER = ["section", "item", "metric", "value"] as const;

type Cell = string | number | null;

function cell(value: Cell): string {
  const text = value === null ? "" : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The rows of the export (header excluded), in page order. */
export function insightsRows(data: Insights): Cell[][] {
  const rows: Cell[][] = [
    ["range", "", "from", data.from],
    ["range", "", "to", data.to],
    ["summary", "", "queries", data.queries],
    ["summary", "", "cache_hits", data.cache_hits],
    ["summary", "", "cache_hit_rate", data.cache_hit_rate],
  ];
  for (const day of data.queries_per_day) {
    rows.push(["queries_per_day", day.day, "queries", day.queries]);
    rows.push(["queries_per_day", day.day, "cache_hits", day.cache_hits]);
  }
  for (const stage of data.latency) {
    rows.push(["latency", stage.stage, "samples", stage.samples]);
    rows.push(["latency", stage.stage, "p50_ms", stage.p50_ms]);
    rows.push(["latency", stage.stage, "p95_ms", stage.p95_ms]);
  }
  rows.push(["feedback", "", "up", data.feedback.up]);
  rows.push(["feedback", "", "down", data.feedback.down]);
  for (const c of data.feedback.comments) rows.push(["feedback_comment", c.question, c.rating, c.comment]);
  for (const q of data.unanswered) {
    rows.push(["unanswered", q.question, "reason", q.reason]);
    rows.push(["unanswered", q.question, "times", q.times]);
  }
  for (const d of data.most_cited) rows.push(["most_cited", d.file_name, "citations", d.citations]);
  rows.push(["never_cited", "", "documents", data.never_cited_count]);
  for (const d of data.never_cited) rows.push(["never_cited", d.file_name, "document_id", d.document_id]);
  for (const f of data.ingestion_failures) rows.push(["ingestion_failures", f.reason, f.step ?? "", f.documents]);
  rows.push(["tokens", "", "embedding_tokens", data.tokens.embedding_tokens]);
  rows.push(["tokens", "", "llm_prompt_tokens", data.tokens.llm_prompt_tokens]);
  rows.push(["tokens", "", "llm_completion_tokens", data.tokens.llm_completion_tokens]);
  rows.push(["tokens", "", "estimated_cost_usd", data.tokens.estimated_cost_usd]);
  return rows;
}

export function insightsCsv(data: Insights): string {
  return [CSV_HEADER as readonly Cell[], ...insightsRows(data)].map((row) => row.map(cell).join(",")).join("\r\n") + "\r\n";
}
