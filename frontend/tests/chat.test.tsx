import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AppProvider } from "@/components/AppProvider";
import { AppShell } from "@/components/AppShell";
import { ChatPage } from "@/components/pages/ChatPage";
import { base64UrlEncode } from "@/lib/auth";
import { resetConfigCache } from "@/lib/config";
import { SseParser } from "@/lib/sse";
import { citation, localAuth, queryResponse } from "./fixtures";

const config = { apiUrl: "http://127.0.0.1:8787/api", auth: localAuth };

function signIn() {
  const claims = base64UrlEncode(
    new TextEncoder().encode(JSON.stringify({ sub: "u1", email: "ada@example.com", "custom:tenant": "acme" })),
  );
  window.sessionStorage.setItem(
    "ragline.auth.session",
    JSON.stringify({ idToken: `h.${claims}.s`, accessToken: null, refreshToken: null, expiresAt: Date.now() + 3600_000 }),
  );
}

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status });
const sse = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

/** A streamed response whose chunks are released one by one by calling `next()`. */
function controlledStream() {
  const encoder = new TextEncoder();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    start: (c) => (controller = c),
    cancel: () => {
      cancelled = true;
    },
  });
  return {
    response: new Response(body, { status: 200, headers: { "Content-Type": "text/event-stream" } }),
    push: (text: string) => controller.enqueue(encoder.encode(text)),
    end: () => controller.close(),
    get cancelled() {
      return cancelled;
    },
  };
}

function renderChat() {
  return render(
    <AppProvider>
      <AppShell>
        <ChatPage />
      </AppShell>
    </AppProvider>,
  );
}

describe("SseParser", () => {
  it("returns whole events however the text is cut", () => {
    const text = sse("token", { text: "Hel" }) + sse("token", { text: "lo [1]" }) + sse("done", { ok: true });
    for (const size of [1, 3, 7, text.length]) {
      const parser = new SseParser();
      const events = [];
      for (let i = 0; i < text.length; i += size) events.push(...parser.push(text.slice(i, i + size)));
      expect(events.map((e) => e.event)).toEqual(["token", "token", "done"]);
      expect(events.map((e) => JSON.parse(e.data))[1]).toEqual({ text: "lo [1]" });
    }
  });
});

// Whole-app renders with user-event typing are slow on a loaded machine: generous bounds.
describe("Chat page", { timeout: 20_000 }, () => {
  beforeEach(() => {
    resetConfigCache();
    signIn();
  });
  afterEach(() => vi.unstubAllGlobals());

  it("streams an answer, shows what was searched for, then cites and rates it", async () => {
    const stream = controlledStream();
    const requests: { url: string; init: RequestInit }[] = [];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
        const url = String(input);
        requests.push({ url, init });
        if (url.endsWith("/config.json")) return json(config);
        if (url.includes("/conversations?")) return json({ conversations: [], next_cursor: null });
        if (url.endsWith("/conversations") && init.method === "POST")
          return json({ id: "c1", title: "", created_at: "2026-12-01T00:00:00Z", updated_at: "2026-12-01T00:00:00Z" }, 201);
        if (url.endsWith("/conversations/c1/messages")) return stream.response;
        if (url.endsWith("/feedback")) return json({ feedback_id: "f1" }, 201);
        return json({ error: { code: "not_found", message: url } }, 404);
      }),
    );
    const user = userEvent.setup();
    renderChat();
    await user.type(await screen.findByTestId("chat-input"), "And its repair budget?");
    await user.click(screen.getByTestId("send-button"));

    stream.push(sse("start", { standalone_query: "And its repair budget? Harbor Bridge" }));
    stream.push(sse("token", { text: "The budget is" }));
    expect(await screen.findByText(/The budget is/)).toBeInTheDocument();
    expect(screen.getByTestId("searched-for")).toHaveTextContent("Searched for: And its repair budget? Harbor Bridge");
    expect(screen.getByTestId("answer")).toHaveAttribute("data-state", "writing");
    expect(screen.getByTestId("stop-button")).toBeInTheDocument();

    const answer = queryResponse({ answer: "The budget is 4.2 million [1].", citations: [citation()] });
    stream.push(sse("token", { text: " 4.2 million [1]." }));
    stream.push(sse("citations", { citations: answer.citations }));
    stream.push(sse("done", { ...answer, conversation_id: "c1", message_id: "m1", standalone_query: "x" }));
    stream.end();
    await waitFor(() => expect(screen.getByTestId("answer")).toHaveAttribute("data-state", "complete"));
    const post = requests.find((r) => r.url.endsWith("/messages"));
    expect((post?.init.headers as Record<string, string>).Accept).toBe("text/event-stream");

    await user.click(within(screen.getByTestId("answer-text")).getByTestId("citation-marker"));
    expect(screen.getByTestId("citation-panel")).toHaveAttribute("data-citation", "1");
    await user.click(screen.getByTestId("feedback-up"));
    await user.click(screen.getByTestId("feedback-send"));
    expect(await screen.findByTestId("feedback-status")).toBeInTheDocument();
    const feedback = requests.find((r) => r.url.endsWith("/conversations/c1/messages/m1/feedback"));
    expect(JSON.parse(String(feedback?.init.body))).toEqual({ rating: "up" });
  });

  it("stop cancels the stream and says the answer was not kept", async () => {
    const stream = controlledStream();
    vi.stubGlobal(
      "fetch",
      vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
        const url = String(input);
        if (url.endsWith("/config.json")) return json(config);
        if (url.includes("/conversations?")) return json({ conversations: [], next_cursor: null });
        if (url.endsWith("/conversations") && init.method === "POST")
          return json({ id: "c1", title: "", created_at: "x", updated_at: "x" }, 201);
        return stream.response;
      }),
    );
    const user = userEvent.setup();
    renderChat();
    await user.type(await screen.findByTestId("chat-input"), "What happened?");
    await user.click(screen.getByTestId("send-button"));
    stream.push(sse("token", { text: "The gear" }));
    await screen.findByText(/The gear/);
    await user.click(screen.getByTestId("stop-button"));
    expect(await screen.findByTestId("answer-stopped")).toBeInTheDocument();
    expect(screen.getByTestId("send-button")).toBeInTheDocument();
    expect(stream.cancelled).toBe(true); // the body was cancelled: the connection closes
  });

  it("shows an error event's message", async () => {
    const stream = controlledStream();
    vi.stubGlobal(
      "fetch",
      vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
        const url = String(input);
        if (url.endsWith("/config.json")) return json(config);
        if (url.includes("/conversations?")) return json({ conversations: [], next_cursor: null });
        if (url.endsWith("/conversations") && init.method === "POST")
          return json({ id: "c1", title: "", created_at: "x", updated_at: "x" }, 201);
        return stream.response;
      }),
    );
    const user = userEvent.setup();
    renderChat();
    await user.type(await screen.findByTestId("chat-input"), "What happened?");
    await user.click(screen.getByTestId("send-button"));
    stream.push(sse("error", { error: { code: "llm_unavailable", message: "The answer model is unavailable.", field: null } }));
    stream.end();
    expect(await screen.findByTestId("chat-error")).toHaveTextContent("The answer model is unavailable.");
  });
});
