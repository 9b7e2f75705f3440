import { describe, expect, it, vi } from "vitest";
import { ApiClient, ApiError, parseErrorBody } from "@/lib/api";
import { ConfigError, loadConfig, parseConfig, resetConfigCache } from "@/lib/config";
import { localAuth } from "./fixtures";

const valid = {
  apiUrl: "http://127.0.0.1:8787/api/", // trailing slash: parseConfig trims it
  auth: localAuth,
};

describe("runtime config", () => {
  it("parses /config.json and trims the API URL's trailing slash", () => {
    const config = parseConfig(valid);
    expect(config.apiUrl).toBe("http://127.0.0.1:8787/api");
    expect(config.auth).toEqual({ ...valid.auth, mode: "local" });
  });

  it("names the field at fault", () => {
    expect(() => parseConfig({ ...valid, apiUrl: "" })).toThrow('"apiUrl" must be a non-empty string');
    expect(() => parseConfig({ ...valid, auth: { ...valid.auth, mode: "saml" } })).toThrow('"auth.mode" must be');
    expect(() => parseConfig({ ...valid, auth: { ...valid.auth, tokenUrl: 5 } })).toThrow('"auth.tokenUrl"');
    expect(() => parseConfig([])).toThrow(ConfigError);
  });

  it("is fetched from /config.json at run time, without caching by the browser", async () => {
    resetConfigCache();
    const fetchImpl = vi.fn().mockResolvedValue(new Response(JSON.stringify(valid), { status: 200 }));
    const config = await loadConfig(fetchImpl);
    expect(config.auth.clientId).toBe("ragline-local");
    expect(fetchImpl).toHaveBeenCalledWith("/config.json", expect.objectContaining({ cache: "no-store" }));
    resetConfigCache();
  });

  it("explains a missing config", async () => {
    resetConfigCache();
    const fetchImpl = vi.fn().mockResolvedValue(new Response("nope", { status: 404 }));
    await expect(loadConfig(fetchImpl)).rejects.toThrow("/config.json answered HTTP 404");
    resetConfigCache();
  });
});

describe("API errors", () => {
  it("keeps the server's code, message and field", () => {
    const error = parseErrorBody(
      422,
      JSON.stringify({ error: { code: "validation_error", message: "question must not be empty", field: "body.question" } }),
    );
    expect(error).toMatchObject({ status: 422, code: "validation_error", message: "question must not be empty", field: "body.question" });
  });

  it("words errors whose body says nothing usable", () => {
    expect(parseErrorBody(502, "<html>Bad gateway</html>")).toMatchObject({ code: "server_error", field: null });
    expect(parseErrorBody(502, "").message).toMatch(/did not answer properly/);
    expect(parseErrorBody(401, JSON.stringify({ message: "Unauthorized" })).message).toBe(
      "Your session has expired. Sign in again.",
    );
    expect(parseErrorBody(429, JSON.stringify({ message: "Too Many Requests" })).message).toBe("Too Many Requests");
  });
});

describe("ApiClient", () => {
  const json = (body: unknown, status = 200) =>
    new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

  it("sends the id token as a bearer token to apiUrl + path", async () => {
    const fetchImpl = vi.fn().mockResolvedValue(json({ query_id: "q" }));
    const api = new ApiClient({ baseUrl: "https://api.example/prod/", getToken: () => "tok", fetchImpl });
    await api.query({ question: "Why?", top_k: 6, mode: "hybrid" });
    const [url, init] = fetchImpl.mock.calls[0];
    expect(url).toBe("https://api.example/prod/query");
    expect(init.method).toBe("POST");
    expect(init.headers.Authorization).toBe("Bearer tok");
    expect(JSON.parse(init.body)).toEqual({ question: "Why?", top_k: 6, mode: "hybrid" });
  });

  it("builds query strings for search and the document list", async () => {
    const fetchImpl = vi.fn().mockImplementation(async () => json({ hits: [], documents: [], latency_ms: 1 }));
    const api = new ApiClient({ baseUrl: "/api", getToken: () => null, fetchImpl });
    await api.search({ q: "crosswind landing", top_k: 5, mode: "sparse" });
    await api.listDocuments({ cursor: "abc" });
    await api.deleteDocument("a/b");
    expect(fetchImpl.mock.calls.map((c) => c[0])).toEqual([
      "/api/search?q=crosswind+landing&top_k=5&mode=sparse",
      "/api/documents?limit=50&cursor=abc",
      "/api/documents/a%2Fb",
    ]);
    expect(fetchImpl.mock.calls[0][1].headers.Authorization).toBeUndefined();
  });

  it("throws ApiError with the server's message, and signals an expired session on 401", async () => {
    const onUnauthorized = vi.fn();
    const fetchImpl = vi
      .fn()
      .mockResolvedValueOnce(json({ error: { code: "llm_unavailable", message: "The answer model timed out. Try again.", field: null } }, 503))
      .mockResolvedValueOnce(json({ message: "Unauthorized" }, 401));
    const api = new ApiClient({ baseUrl: "/api", getToken: () => "t", onUnauthorized, fetchImpl });
    await expect(api.query({ question: "q" })).rejects.toMatchObject({ status: 503, code: "llm_unavailable", message: "The answer model timed out. Try again." });
    await expect(api.health()).rejects.toBeInstanceOf(ApiError);
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
  });

  it("words network failures", async () => {
    const fetchImpl = vi.fn().mockRejectedValue(new TypeError("Failed to fetch"));
    const api = new ApiClient({ baseUrl: "/api", getToken: () => "t", fetchImpl });
    await expect(api.listDocuments()).rejects.toMatchObject({ code: "network", message: expect.stringContaining("Could not reach") });
  });
});
