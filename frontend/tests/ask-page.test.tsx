import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AppProvider } from "@/components/AppProvider";
import { AppShell } from "@/components/AppShell";
import { AskPage } from "@/components/pages/AskPage";
import { base64UrlEncode } from "@/lib/auth";
import { resetConfigCache } from "@/lib/config";
import { localAuth, queryResponse } from "./fixtures";

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

type Handler = (url: string, init: RequestInit) => Response | Promise<Response>;

function serve(routes: Record<string, Handler>) {
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = String(input);
    const key = `${init.method ?? "GET"} ${url.replace("http://127.0.0.1:8787", "").split("?")[0]}`;
    const handler = routes[key];
    if (!handler) return new Response(JSON.stringify({ error: { code: "not_found", message: key } }), { status: 404 });
    return handler(url, init);
  });
  vi.stubGlobal("fetch", fetchMock);
  return fetchMock;
}

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status });

function renderApp() {
  return render(
    <AppProvider>
      <AppShell>
        <AskPage />
      </AppShell>
    </AppProvider>,
  );
}

describe("Ask page (config + sign-in + API wired together)", () => {
  beforeEach(() => resetConfigCache());
  afterEach(() => vi.unstubAllGlobals());

  it("shows the sign-in screen when nobody is signed in", async () => {
    serve({ "GET /config.json": () => json(config) });
    renderApp();
    expect(screen.getByTestId("app-loading")).toBeInTheDocument();
    expect(await screen.findByRole("button", { name: "Sign in" })).toBeInTheDocument();
    expect(screen.queryByLabelText("Question")).not.toBeInTheDocument();
  });

  it("explains a missing /config.json", async () => {
    serve({});
    renderApp();
    expect(await screen.findByTestId("config-error")).toHaveTextContent("/config.json answered HTTP 404");
  });

  it("asks, shows the cited answer, and sends feedback with the bearer token", async () => {
    signIn();
    const user = userEvent.setup();
    let release!: () => void;
    const fetchMock = serve({
      "GET /config.json": () => json(config),
      "POST /api/query": () =>
        new Promise<Response>((resolve) => {
          release = () => resolve(json(queryResponse({ cached: true })));
        }),
      "POST /api/feedback": () => json({ feedback_id: "f1" }, 201),
    });
    renderApp();

    expect(await screen.findByTestId("user-tenant")).toHaveTextContent("acme");
    expect(screen.getByTestId("ask-empty")).toBeInTheDocument();
    await user.type(screen.getByLabelText("Question"), "Why did the Cessna crash?{Enter}");
    expect(await screen.findByTestId("answer-loading")).toBeInTheDocument();
    release();

    const answer = await screen.findByTestId("answer");
    expect(answer).toHaveAttribute("data-query-id", "q-123");
    expect(within(answer).getByTestId("cached-badge")).toBeInTheDocument();
    const queryCall = fetchMock.mock.calls.find(([u]) => String(u).endsWith("/api/query"))!;
    expect(JSON.parse(String(queryCall[1]!.body))).toEqual({ question: "Why did the Cessna crash?", top_k: 6, mode: "hybrid" });
    expect((queryCall[1]!.headers as Record<string, string>).Authorization).toMatch(/^Bearer h\./);

    await user.click(within(answer).getAllByTestId("citation-marker")[0]);
    expect(screen.getByTestId("citation-panel")).toHaveTextContent("20080111X00040.pdf");

    await user.click(screen.getByRole("button", { name: "Helpful" }));
    await user.type(screen.getByLabelText("Comment (optional)"), "spot on");
    await user.click(screen.getByRole("button", { name: "Send feedback" }));
    expect(await screen.findByTestId("feedback-status")).toBeInTheDocument();
    const feedbackCall = fetchMock.mock.calls.find(([u]) => String(u).endsWith("/api/feedback"))!;
    expect(JSON.parse(String(feedbackCall[1]!.body))).toEqual({ query_id: "q-123", rating: "up", comment: "spot on" });
  });

  it("shows the server's error and marks the question field at fault", async () => {
    signIn();
    const user = userEvent.setup();
    serve({
      "GET /config.json": () => json(config),
      "POST /api/query": () =>
        json({ error: { code: "llm_unavailable", message: "The answer model did not respond in time. Try again.", field: null } }, 503),
    });
    renderApp();
    await user.type(await screen.findByLabelText("Question"), "Anything?");
    await user.click(screen.getByRole("button", { name: "Ask" }));
    expect(await screen.findByTestId("ask-error")).toHaveTextContent("The answer model did not respond in time. Try again.");

    // an empty question is caught before it is sent
    await user.clear(screen.getByLabelText("Question"));
    await user.click(screen.getByRole("button", { name: "Ask" }));
    await waitFor(() => expect(screen.getByLabelText("Question")).toHaveAttribute("aria-invalid", "true"));
    expect(screen.getByRole("alert")).toHaveTextContent("Type a question first.");
  });

  it("returns to the sign-in screen when the session is rejected", async () => {
    signIn();
    const user = userEvent.setup();
    serve({
      "GET /config.json": () => json(config),
      "POST /api/query": () => json({ message: "Unauthorized" }, 401),
    });
    renderApp();
    await user.type(await screen.findByLabelText("Question"), "Anything?{Enter}");
    expect(await screen.findByTestId("signin-screen")).toHaveTextContent("Your session has expired. Sign in again to continue.");
  });
});
