import type { Citation, DocumentRecord, QueryResponse } from "@/lib/api";
import type { AuthConfig } from "@/lib/config";

/** The auth settings `ragline dev` serves in /config.json (local mode). */
export const localAuth: AuthConfig = {
  mode: "local",
  authorizeUrl: "http://127.0.0.1:8787/dev-auth/authorize",
  tokenUrl: "http://127.0.0.1:8787/dev-auth/token",
  logoutUrl: null,
  clientId: "ragline-local",
  scopes: ["openid", "email"],
};

export function citation(overrides: Partial<Citation> = {}): Citation {
  return {
    number: 1,
    document_id: "doc-1",
    source: "ntsb/20080111X00040.pdf",
    title: null,
    page_start: 1,
    page_end: 1,
    heading: "Probable Cause and Findings",
    snippet: "The pilot failed to maintain directional control during landing roll.",
    score: 0.8123,
    chunk_index: 0,
    ...overrides,
  };
}

export function queryResponse(overrides: Partial<QueryResponse> = {}): QueryResponse {
  return {
    query_id: "q-123",
    answer:
      "The pilot failed to maintain directional control during the landing roll [1]. A 90 degree crosswind at 8 knots contributed [2].",
    answer_type: "generated",
    citations: [
      citation(),
      citation({
        number: 2,
        document_id: "doc-2",
        source: "weather/metar-notes.md",
        title: "Weather notes",
        page_start: 3,
        page_end: 4,
        heading: null,
        snippet: "The winds at the time of the accident were reported as a 90 degree crosswind at 8 knots.",
        score: 0.61,
        chunk_index: 7,
      }),
    ],
    cached: false,
    latency_ms: { total: 1234.5, retrieve: 40.2, generate: 1180 },
    model: "gpt-4o-mini",
    usage: { prompt_tokens: 900, completion_tokens: 60 },
    ...overrides,
  };
}

export function documentRecord(overrides: Partial<DocumentRecord> = {}): DocumentRecord {
  return {
    id: "doc-1",
    file_name: "report.pdf",
    key: "acme/report.pdf",
    status: "processing",
    step: "chunk",
    error: null,
    file_type: "pdf",
    page_count: null,
    chunk_count: null,
    size_bytes: 95347,
    created_at: "2026-11-20T10:00:00Z",
    updated_at: "2026-11-20T10:00:05Z",
    ...overrides,
  };
}
