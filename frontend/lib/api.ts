import { readEvents } from "./sse";

/**
 * Typed client for the Ragline REST API (docs/api.md). Every error becomes an ApiError
 * carrying the server's {error: {code, message, field}}, or a worded stand-in when the
 * server (or the network) said nothing usable.
 */

export type SearchMode = "hybrid" | "dense" | "sparse";
export type DocumentStatus = "processing" | "ready" | "failed" | "deleted";

export interface Citation {
  number: number;
  document_id: string;
  source: string;
  title: string | null;
  page_start: number | null;
  page_end: number | null;
  heading: string | null;
  snippet: string;
  score: number;
  chunk_index: number;
}

export type Hit = Omit<Citation, "number">;

export interface QueryRequest {
  question: string;
  top_k?: number;
  mode?: SearchMode;
  document_ids?: string[];
  file_types?: string[];
}

export interface QueryResponse {
  query_id: string;
  answer: string;
  answer_type: "generated" | "extractive";
  citations: Citation[];
  cached: boolean;
  latency_ms: { total: number; [stage: string]: number };
  model: string | null;
  usage: { prompt_tokens: number; completion_tokens: number } | null;
}

export interface SearchParams {
  q: string;
  top_k?: number;
  mode?: SearchMode;
  document_id?: string;
  file_type?: string;
}

export interface SearchResponse {
  hits: Hit[];
  latency_ms: number;
}

export interface CreateUploadRequest {
  file_name: string;
  content_type?: string;
  size_bytes?: number;
  collection?: string;
}

export interface UploadTarget {
  url: string;
  method: "PUT";
  headers: Record<string, string>;
}

export interface CreateUploadResponse {
  document_id: string;
  key: string;
  upload: UploadTarget;
  expires_in: number;
}

export interface DocumentRecord {
  id: string;
  file_name: string;
  key: string;
  status: DocumentStatus | string;
  step: string | null;
  error: string | null;
  file_type: string | null;
  page_count: number | null;
  chunk_count: number | null;
  size_bytes: number | null;
  created_at: string;
  updated_at: string;
}

export interface ListDocumentsResponse {
  documents: DocumentRecord[];
  next_cursor: string | null;
}

export interface FeedbackRequest {
  query_id: string;
  rating: "up" | "down";
  comment?: string;
}

export interface HealthResponse {
  status: "ok" | "degraded";
  checks: Record<string, string>;
}

export interface CollectionSummary {
  name: string;
  document_count: number;
  groups?: string[] | null;
}

export interface MyCollections {
  role: "reader" | "editor" | "admin";
  groups: string[];
  collections: CollectionSummary[];
}

export interface GrantResponse {
  collection: string;
  group: string;
  granted: boolean;
  changed: boolean;
}

export interface AuditEvent {
  id: string;
  actor: string;
  actor_role: string;
  action: "upload" | "delete" | "grant" | "revoke" | "refused";
  target: string;
  detail: string | null;
  created_at: string;
}

/** GET /insights (docs/api.md, "Insights"). */
export interface Insights {
  from: string;
  to: string;
  queries: number;
  cache_hits: number;
  cache_hit_rate: number | null;
  queries_per_day: { day: string; queries: number; cache_hits: number }[];
  latency: { stage: string; samples: number; p50_ms: number | null; p95_ms: number | null }[];
  feedback: {
    up: number;
    down: number;
    comments: { query_id: string; question: string; rating: "up" | "down"; comment: string; created_at: string }[];
  };
  unanswered: {
    question: string;
    reason: "no_passage" | "low_score" | "thumbs_down";
    times: number;
    last_query_id: string;
    last_asked_at: string;
    top_score: number | null;
    mode: string;
  }[];
  most_cited: { document_id: string; file_name: string; citations: number }[];
  never_cited: { document_id: string; file_name: string }[];
  never_cited_count: number;
  ingestion_failures: { step: string | null; reason: string; documents: number }[];
  tokens: {
    embedding_tokens: number;
    llm_prompt_tokens: number;
    llm_completion_tokens: number;
    estimated_cost_usd: number;
    price_per_million: Record<string, number>;
  };
}

export interface Conversation {
  id: string;
  title: string;
  created_at: string;
  updated_at: string;
}

export interface ConversationList {
  conversations: Conversation[];
  next_cursor: string | null;
}

export interface ConversationMessage {
  id: string;
  position: number;
  query_id: string | null;
  question: string;
  standalone_query: string;
  answer: string;
  answer_type: "generated" | "extractive";
  citations: Citation[];
  cached: boolean;
  model: string | null;
  usage: { prompt_tokens: number; completion_tokens: number } | null;
  latency_ms: { total: number; [stage: string]: number };
  feedback: { rating: "up" | "down"; comment: string | null } | null;
  created_at: string;
}

export interface ConversationDetail extends Conversation {
  messages: ConversationMessage[];
}

/** POST /conversations/{id}/messages: the answer and the message it was stored as. */
export interface ConversationAnswer extends QueryResponse {
  conversation_id: string;
  message_id: string;
  standalone_query: string;
}

/** What a streamed answer reports as it is written (docs/api.md, "Streaming"). */
export interface StreamHandlers {
  onStart?: (standaloneQuery: string) => void;
  onToken?: (text: string) => void;
  onCitations?: (citations: Citation[]) => void;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | null;

  constructor(status: number, code: string, message: string, field: string | null = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

const STATUS_WORDS: Record<number, string> = {
  400: "The request was not valid.",
  401: "Your session has expired. Sign in again.",
  403: "You are not allowed to do that. Sign in again, or ask an administrator for access.",
  404: "Not found. It may have been deleted.",
  413: "The request is too large.",
  429: "Too many requests. Wait a moment and try again.",
  500: "The server hit an error. Try again in a moment.",
  502: "The server did not answer properly. Try again in a moment.",
  503: "The service is unavailable right now. Try again in a moment.",
  504: "The server took too long to answer. Try again in a moment.",
};

function defaultCode(status: number): string {
  if (status === 401) return "unauthorized";
  if (status === 403) return "forbidden";
  if (status === 404) return "not_found";
  if (status === 429) return "throttled";
  if (status >= 500) return "server_error";
  return "bad_request";
}

/** Turns an error response into an ApiError, whatever shape its body has. */
export function parseErrorBody(status: number, bodyText: string): ApiError {
  let code = defaultCode(status);
  let message = STATUS_WORDS[status] ?? `The server answered HTTP ${status}.`;
  let field: string | null = null;
  try {
    const body = JSON.parse(bodyText) as unknown;
    if (typeof body === "object" && body !== null) {
      const err = (body as { error?: unknown }).error;
      if (typeof err === "object" && err !== null) {
        const e = err as { code?: unknown; message?: unknown; field?: unknown };
        if (typeof e.code === "string" && e.code) code = e.code;
        if (typeof e.message === "string" && e.message) message = e.message;
        if (typeof e.field === "string" && e.field) field = e.field;
      } else {
        // API Gateway's own errors: {"message": "Unauthorized"}
        const m = (body as { message?: unknown }).message;
        if (typeof m === "string" && m && status !== 401 && status !== 403) message = m;
      }
    }
  } catch {
    // not JSON: keep the worded default
  }
  return new ApiError(status, code, message, field);
}

export interface ApiClientOptions {
  baseUrl: string;
  getToken: () => string | null;
  onUnauthorized?: (error: ApiError) => void;
  fetchImpl?: typeof fetch;
}

function queryString(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

export class ApiClient {
  private readonly baseUrl: string;
  private readonly getToken: () => string | null;
  private readonly onUnauthorized?: (error: ApiError) => void;
  private readonly fetchImpl: typeof fetch;

  constructor(options: ApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.getToken = options.getToken;
    this.onUnauthorized = options.onUnauthorized;
    this.fetchImpl = options.fetchImpl ?? ((input, init) => fetch(input, init));
  }

  url(path: string): string {
    return `${this.baseUrl}${path}`;
  }

  async request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const headers: Record<string, string> = { Accept: "application/json" };
    const token = this.getToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response: Response;
    try {
      response = await this.fetchImpl(this.url(path), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (err) {
      if (err instanceof DOMException && err.name === "AbortError") throw err;
      throw new ApiError(0, "network", "Could not reach the Ragline API. Check your connection and try again.");
    }
    const text = await response.text();
    if (!response.ok) {
      const error = parseErrorBody(response.status, text);
      if (response.status === 401) this.onUnauthorized?.(error);
      throw error;
    }
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(response.status, "bad_response", "The server sent a response the app could not read.");
    }
  }

  query(request: QueryRequest, signal?: AbortSignal): Promise<QueryResponse> {
    return this.request("POST", "/query", request, signal);
  }

  search(params: SearchParams, signal?: AbortSignal): Promise<SearchResponse> {
    return this.request("GET", `/search${queryString({ ...params })}`, undefined, signal);
  }

  createUpload(request: CreateUploadRequest): Promise<CreateUploadResponse> {
    return this.request("POST", "/documents", request);
  }

  listDocuments(
    params: { status?: string; limit?: number; cursor?: string | null } = {},
    signal?: AbortSignal,
  ): Promise<ListDocumentsResponse> {
    return this.request("GET", `/documents${queryString({ limit: 50, ...params })}`, undefined, signal);
  }

  getDocument(documentId: string): Promise<DocumentRecord> {
    return this.request("GET", `/documents/${encodeURIComponent(documentId)}`);
  }

  deleteDocument(documentId: string): Promise<{ document_id: string; status: string }> {
    return this.request("DELETE", `/documents/${encodeURIComponent(documentId)}`);
  }

  sendFeedback(request: FeedbackRequest): Promise<{ feedback_id: string }> {
    return this.request("POST", "/feedback", request);
  }

  health(): Promise<HealthResponse> {
    return this.request("GET", "/health");
  }

  myCollections(): Promise<MyCollections> {
    return this.request("GET", "/collections");
  }

  collectionGrants(): Promise<{ collections: CollectionSummary[] }> {
    return this.request("GET", "/admin/collections");
  }

  grant(collection: string, group: string): Promise<GrantResponse> {
    return this.request("PUT", grantPath(collection, group));
  }

  revoke(collection: string, group: string): Promise<GrantResponse> {
    return this.request("DELETE", grantPath(collection, group));
  }

  audit(params: { limit?: number; action?: string } = {}): Promise<{ events: AuditEvent[] }> {
    return this.request("GET", `/admin/audit${queryString({ limit: 100, ...params })}`);
  }

  insights(range: { from: string; to: string }, signal?: AbortSignal): Promise<Insights> {
    return this.request("GET", `/insights${queryString(range)}`, undefined, signal);
  }

  createConversation(title?: string): Promise<Conversation> {
    return this.request("POST", "/conversations", title ? { title } : {});
  }

  listConversations(params: { limit?: number; cursor?: string | null } = {}, signal?: AbortSignal): Promise<ConversationList> {
    return this.request("GET", `/conversations${queryString({ limit: 50, ...params })}`, undefined, signal);
  }

  getConversation(conversationId: string, signal?: AbortSignal): Promise<ConversationDetail> {
    return this.request("GET", `/conversations/${encodeURIComponent(conversationId)}`, undefined, signal);
  }

  deleteConversation(conversationId: string): Promise<{ conversation_id: string; status: string }> {
    return this.request("DELETE", `/conversations/${encodeURIComponent(conversationId)}`);
  }

  sendMessageFeedback(
    conversationId: string,
    messageId: string,
    request: { rating: "up" | "down"; comment?: string },
  ): Promise<{ feedback_id: string }> {
    const path = `/conversations/${encodeURIComponent(conversationId)}/messages/${encodeURIComponent(messageId)}/feedback`;
    return this.request("POST", path, request);
  }

  /**
   * Asks a (follow-up) question in a conversation and streams the answer: handlers are called
   * as events arrive; resolves with the whole answer, rejects with an ApiError (an HTTP error,
   * or an `error` event mid-stream). Aborting `signal` closes the stream: the server stops.
   */
  async streamMessage(
    conversationId: string,
    request: QueryRequest,
    handlers: StreamHandlers,
    signal?: AbortSignal,
  ): Promise<ConversationAnswer> {
    const headers: Record<string, string> = { Accept: "text/event-stream", "Content-Type": "application/json" };
    const token = this.getToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    let response: Response;
    try {
      response = await this.fetchImpl(this.url(`/conversations/${encodeURIComponent(conversationId)}/messages`), {
        method: "POST",
        headers,
        body: JSON.stringify(request),
        signal,
      });
    } catch (err) {
      if (err instanceof DOMException && err.name === "AbortError") throw err;
      throw new ApiError(0, "network", "Could not reach the Ragline API. Check your connection and try again.");
    }
    if (!response.ok) {
      const error = parseErrorBody(response.status, await response.text());
      if (response.status === 401) this.onUnauthorized?.(error);
      throw error;
    }
    let answer: ConversationAnswer | null = null;
    let failure: ApiError | null = null;
    await readEvents(response, ({ event, data }) => {
      const payload = JSON.parse(data) as Record<string, unknown>;
      if (event === "start") handlers.onStart?.(String(payload.standalone_query ?? ""));
      else if (event === "token") handlers.onToken?.(String(payload.text ?? ""));
      else if (event === "citations") handlers.onCitations?.((payload.citations as Citation[]) ?? []);
      else if (event === "done") answer = payload as unknown as ConversationAnswer;
      else if (event === "error") failure = parseErrorBody(503, data);
    }, signal);
    if (failure) throw failure;
    if (!answer) throw new ApiError(0, "stream_ended", "The answer stopped before it was complete. Try again.");
    return answer;
  }
}

function grantPath(collection: string, group: string): string {
  return `/admin/collections/${encodeURIComponent(collection)}/groups/${encodeURIComponent(group)}`;
}

export interface UploadProgress {
  loaded: number;
  total: number;
}

/** S3 error bodies are XML: <Error><Code>..</Code><Message>..</Message></Error>. */
function storageErrorMessage(status: number, body: string): string {
  const message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1];
  const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
  if (code === "AccessDenied" || code === "SignatureDoesNotMatch" || code === "RequestTimeTooSkewed") {
    return `Storage refused the upload (${code}${message ? `: ${message}` : ""}). The upload link may have expired; try again.`;
  }
  if (code === "EntityTooLarge") return "The file is too large for storage.";
  const detail = message || code;
  return `Storage refused the upload (HTTP ${status}${detail ? `: ${detail}` : ""}). Try again.`;
}

/**
 * PUTs a file to its presigned URL with XMLHttpRequest, which (unlike fetch) reports upload
 * progress. Resolves when storage accepted the bytes.
 */
export function uploadToStorage(
  target: UploadTarget,
  file: Blob,
  onProgress: (progress: UploadProgress) => void,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(target.method || "PUT", target.url);
    for (const [name, value] of Object.entries(target.headers ?? {})) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event: ProgressEvent) => {
      onProgress({ loaded: event.loaded, total: event.lengthComputable ? event.total : file.size });
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress({ loaded: file.size, total: file.size });
        resolve();
      } else {
        reject(new ApiError(xhr.status, "upload_failed", storageErrorMessage(xhr.status, xhr.responseText ?? "")));
      }
    };
    xhr.onerror = () =>
      reject(
        new ApiError(
          0,
          "network",
          "The upload could not reach storage. Check your connection (or the bucket's CORS settings) and try again.",
        ),
      );
    xhr.ontimeout = () => reject(new ApiError(0, "timeout", "The upload timed out. Try again."));
    xhr.onabort = () => reject(new ApiError(0, "aborted", "Upload cancelled."));
    if (signal) {
      if (signal.aborted) {
        xhr.abort();
        return;
      }
      signal.addEventListener("abort", () => xhr.abort(), { once: true });
    }
    xhr.send(file);
  });
}
