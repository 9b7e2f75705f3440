import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AppProvider } from "@/components/AppProvider";
import { AppShell } from "@/components/AppShell";
import { DocumentsPage } from "@/components/pages/DocumentsPage";
import { InsightsPage } from "@/components/pages/InsightsPage";
import type { Insights } from "@/lib/api";
import { base64UrlEncode } from "@/lib/auth";
import { resetConfigCache } from "@/lib/config";
import { ACCEPTED_EXTENSIONS, contentTypeForName } from "@/lib/formats";
import { insightsCsv, insightsRows } from "@/lib/insightsCsv";
import { allows, groupsOf, roleOf } from "@/lib/roles";
import { documentRecord, localAuth } from "./fixtures";

const config = { apiUrl: "http://127.0.0.1:8787/api", auth: localAuth };
const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status });

function signIn(groups?: string[]) {
  const claims: Record<string, unknown> = { sub: "u1", email: "ada@example.com", "custom:tenant": "acme" };
  if (groups) claims["cognito:groups"] = groups;
  const body = base64UrlEncode(new TextEncoder().encode(JSON.stringify(claims)));
  window.sessionStorage.setItem(
    "ragline.auth.session",
    JSON.stringify({ idToken: `h.${body}.s`, accessToken: null, refreshToken: null, expiresAt: Date.now() + 3600_000 }),
  );
}

function serve(routes: Record<string, () => Response>) {
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const key = `${init.method ?? "GET"} ${String(input).replace("http://127.0.0.1:8787", "").split("?")[0]}`;
    const handler = routes[key];
    return handler ? handler() : json({ error: { code: "not_found", message: key } }, 404);
  });
  vi.stubGlobal("fetch", fetchMock);
  return fetchMock;
}

export const INSIGHTS: Insights = {
  from: "2026-11-01",
  to: "2026-11-03",
  queries: 5,
  cache_hits: 1,
  cache_hit_rate: 0.2,
  queries_per_day: [
    { day: "2026-11-01", queries: 2, cache_hits: 1 },
    { day: "2026-11-02", queries: 2, cache_hits: 0 },
    { day: "2026-11-03", queries: 1, cache_hits: 0 },
  ],
  latency: [
    { stage: "total", samples: 5, p50_ms: 100, p95_ms: 300 },
    { stage: "llm", samples: 3, p50_ms: 150, p95_ms: 240 },
  ],
  feedback: {
    up: 1,
    down: 2,
    comments: [{ query_id: "q5", question: "How many leave days?", rating: "down", comment: "wrong, number", created_at: "2026-11-03T14:00:00Z" }],
  },
  unanswered: [
    { question: "zebra?", reason: "no_passage", times: 1, last_query_id: "q3", last_asked_at: "2026-11-02T09:00:00Z", top_score: null, mode: "sparse" },
  ],
  most_cited: [{ document_id: "a", file_name: "a.md", citations: 3 }],
  never_cited: [{ document_id: "c", file_name: "c.txt" }],
  never_cited_count: 1,
  ingestion_failures: [{ step: "extract", reason: "<file> is empty.", documents: 2 }],
  tokens: {
    embedding_tokens: 1337,
    llm_prompt_tokens: 1800,
    llm_completion_tokens: 180,
    estimated_cost_usd: 0.000405,
    price_per_million: { embedding: 0.02, llm_prompt: 0.15, llm_completion: 0.6 },
  },
};

describe("roles from cognito:groups", () => {
  it("reads every shape of the claim and defaults to reader", () => {
    expect(groupsOf({})).toEqual([]);
    expect(groupsOf({ "cognito:groups": ["editor", "hr"] })).toEqual(["editor", "hr"]);
    expect(groupsOf({ "cognito:groups": "[admin editor]" })).toEqual(["admin", "editor"]);
    expect(roleOf([])).toBe("reader");
    expect(roleOf(["hr", "editor"])).toBe("editor");
    expect(roleOf(["reader", "admin"])).toBe("admin");
    expect(allows("editor", "reader") && !allows("editor", "admin")).toBe(true);
  });

  it("accepts every suffix of the server's format registry, .tsv included", () => {
    expect(ACCEPTED_EXTENSIONS).toContain(".tsv");
    expect(contentTypeForName("leave.TSV")).toBe("text/tab-separated-values");
  });
});

describe("controls follow the role", () => {
  beforeEach(() => resetConfigCache());
  afterEach(() => {
    vi.unstubAllGlobals();
    window.sessionStorage.clear();
  });

  const routes = {
    "GET /config.json": () => json(config),
    "GET /api/documents": () => json({ documents: [documentRecord({ status: "ready", step: "finalize" })], next_cursor: null }),
  };

  function renderDocuments() {
    return render(
      <AppProvider>
        <AppShell>
          <DocumentsPage />
        </AppShell>
      </AppProvider>,
    );
  }

  it("a reader gets no upload, no delete and no admin pages", async () => {
    signIn();
    serve(routes);
    renderDocuments();
    expect(await screen.findByText("report.pdf")).toBeInTheDocument();
    expect(screen.queryByTestId("delete-document")).not.toBeInTheDocument();
    expect(screen.queryByLabelText(/choose files/i)).not.toBeInTheDocument();
    expect(document.querySelector('input[type="file"]')).toBeNull();
    const nav = screen.getByTestId("app-nav");
    expect(within(nav).queryByText("Insights")).not.toBeInTheDocument();
    expect(within(nav).queryByText("Collections")).not.toBeInTheDocument();
  });

  it("an editor uploads and deletes; an admin also sees Collections and Insights", async () => {
    signIn(["editor"]);
    serve(routes);
    const { unmount } = renderDocuments();
    expect(await screen.findByTestId("delete-document")).toBeInTheDocument();
    expect(document.querySelector('input[type="file"]')).not.toBeNull();
    expect(within(screen.getByTestId("app-nav")).queryByText("Insights")).not.toBeInTheDocument();
    unmount();
    signIn(["admin"]);
    renderDocuments();
    const nav = await screen.findByTestId("app-nav");
    expect(within(nav).getByText("Insights")).toBeInTheDocument();
    expect(within(nav).getByText("Collections")).toBeInTheDocument();
    expect(screen.getByTestId("user-role")).toHaveTextContent("admin");
  });
});

describe("Insights page", () => {
  beforeEach(() => resetConfigCache());
  afterEach(() => {
    vi.unstubAllGlobals();
    window.sessionStorage.clear();
  });

  it("shows the figures and charts of GET /insights for the chosen range", { timeout: 30_000 }, async () => {
    signIn(["admin"]);
    const fetchMock = serve({ "GET /config.json": () => json(config), "GET /api/insights": () => json(INSIGHTS) });
    render(
      <AppProvider>
        <AppShell>
          <InsightsPage />
        </AppShell>
      </AppProvider>,
    );
    expect(await screen.findByTestId("tile-queries")).toHaveTextContent("5");
    expect(screen.getByTestId("tile-hit-rate")).toHaveTextContent("20.0%");
    expect(screen.getByTestId("tile-feedback")).toHaveTextContent("1 / 2");
    expect(screen.getByTestId("chart-queries-per-day").querySelector("svg")).not.toBeNull();
    expect(screen.getByTestId("chart-latency").querySelector("svg")).not.toBeNull();
    expect(within(screen.getByTestId("table-unanswered")).getByText("zebra?")).toBeInTheDocument();
    expect(within(screen.getByTestId("table-failures")).getByText("<file> is empty.")).toBeInTheDocument();

    fireEvent.change(screen.getByTestId("insights-from"), { target: { value: "2026-11-01" } });
    fireEvent.change(screen.getByTestId("insights-to"), { target: { value: "2026-11-03" } });
    await userEvent.click(screen.getByTestId("insights-apply"));
    await waitFor(() =>
      expect(fetchMock.mock.calls.map(([url]) => String(url))).toContain(
        "http://127.0.0.1:8787/api/insights?from=2026-11-01&to=2026-11-03",
      ),
    );
  });

  it("a non-admin is told the page is for admins, and no request is made", async () => {
    signIn();
    const fetchMock = serve({ "GET /config.json": () => json(config) });
    render(
      <AppProvider>
        <AppShell>
          <InsightsPage />
        </AppShell>
      </AppProvider>,
    );
    expect(await screen.findByTestId("admin-only")).toBeInTheDocument();
    expect(fetchMock.mock.calls.some(([url]) => String(url).includes("/insights"))).toBe(false);
  });

  it("exports every figure as CSV, quoting what needs it", () => {
    const csv = insightsCsv(INSIGHTS);
    const lines = csv.trim().split("\r\n");
    expect(lines[0]).toBe("section,item,metric,value");
    expect(lines).toContain("summary,,queries,5");
    expect(lines).toContain("queries_per_day,2026-11-02,queries,2");
    expect(lines).toContain("latency,total,p95_ms,300");
    expect(lines).toContain('feedback_comment,How many leave days?,down,"wrong, number"');
    expect(lines).toContain("tokens,,estimated_cost_usd,0.000405");
    expect(lines.length - 1).toBe(insightsRows(INSIGHTS).length);
  });
});

describe("Collections page", () => {
  beforeEach(() => resetConfigCache());
  afterEach(() => {
    vi.unstubAllGlobals();
    window.sessionStorage.clear();
  });

  it("lists collections and grants, grants one to a group, and shows the audit trail", { timeout: 30_000 }, async () => {
    signIn(["admin"]);
    let groups: string[] = [];
    const fetchMock = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
      const url = String(input).replace("http://127.0.0.1:8787", "");
      const key = `${init.method ?? "GET"} ${url.split("?")[0]}`;
      if (key === "GET /config.json") return json(config);
      if (key === "GET /api/admin/collections")
        return json({ collections: [{ name: "default", document_count: 3, groups: [] }, { name: "hr", document_count: 2, groups }] });
      if (key === "GET /api/admin/audit")
        return json({ events: [{ id: "e1", actor: "ada@example.com", actor_role: "admin", action: "grant", target: "hr -> hr", detail: null, created_at: "2026-11-03T10:00:00Z" }] });
      if (key === "PUT /api/admin/collections/hr/groups/hr-team") {
        groups = ["hr-team"];
        return json({ collection: "hr", group: "hr-team", granted: true, changed: true });
      }
      return json({ error: { code: "not_found", message: key } }, 404);
    });
    vi.stubGlobal("fetch", fetchMock);
    const { CollectionsPage } = await import("@/components/pages/CollectionsPage");
    render(
      <AppProvider>
        <AppShell>
          <CollectionsPage />
        </AppShell>
      </AppProvider>,
    );
    const hr = await screen.findByTestId("collection-hr");
    expect(hr).toHaveTextContent("admins only");
    expect(screen.getByTestId("collection-default")).toHaveTextContent("everyone");
    expect(within(screen.getByTestId("audit-table")).getByText("hr -> hr")).toBeInTheDocument();
    fireEvent.change(screen.getByTestId("grant-collection"), { target: { value: "hr" } });
    fireEvent.change(screen.getByTestId("grant-group"), { target: { value: "hr-team" } });
    await userEvent.click(screen.getByTestId("grant-button"));
    expect(await screen.findByTestId("revoke-hr-hr-team")).toBeInTheDocument();
  });
});
