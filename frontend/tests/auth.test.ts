import { createHash } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import {
  AuthError,
  base64UrlEncode,
  completeSignIn,
  createCodeChallenge,
  createCodeVerifier,
  loadSession,
  safeReturnPath,
  signOut,
  startSignIn,
  userFromSession,
} from "@/lib/auth";
import { type AuthConfig } from "@/lib/config";
import { sha256Bytes } from "@/lib/sha256";
import { localAuth } from "./fixtures";

const cognito: AuthConfig = {
  mode: "cognito",
  authorizeUrl: "https://ragline-dev.auth.eu-west-1.amazoncognito.com/oauth2/authorize",
  tokenUrl: "https://ragline-dev.auth.eu-west-1.amazoncognito.com/oauth2/token",
  logoutUrl: "https://ragline-dev.auth.eu-west-1.amazoncognito.com/logout",
  clientId: "abc123",
  scopes: ["openid", "email", "profile"],
};

function jwt(claims: Record<string, unknown>): string {
  const enc = (o: unknown) => base64UrlEncode(new TextEncoder().encode(JSON.stringify(o)));
  return `${enc({ alg: "HS256", typ: "JWT" })}.${enc(claims)}.signature`;
}

const nodeChallenge = (verifier: string) => createHash("sha256").update(verifier).digest("base64url");

describe("PKCE", () => {
  it("derives the S256 challenge of RFC 7636 appendix B", async () => {
    expect(await createCodeChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).toBe(
      "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    );
  });

  it("makes the challenge base64url(SHA-256(verifier)) for fresh verifiers", async () => {
    for (let i = 0; i < 5; i++) {
      const verifier = createCodeVerifier();
      expect(verifier).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
      const challenge = await createCodeChallenge(verifier);
      expect(challenge).toBe(nodeChallenge(verifier));
      expect(challenge).not.toMatch(/[+/=]/);
    }
    expect(createCodeVerifier()).not.toBe(createCodeVerifier());
  });

  it("computes the same challenge without Web Crypto (plain-http LAN access)", async () => {
    for (const size of [0, 1, 55, 56, 63, 64, 65, 200, 1000]) {
      const data = new Uint8Array(size).map((_, i) => (i * 31 + 7) & 0xff);
      expect(Buffer.from(sha256Bytes(data)).toString("hex")).toBe(createHash("sha256").update(data).digest("hex"));
    }
    vi.stubGlobal("crypto", { getRandomValues: (a: Uint8Array) => globalThis.crypto.getRandomValues(a) });
    try {
      expect(await createCodeChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).toBe(
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
      );
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

describe("sign-in flow (the same code path for local and Cognito)", () => {
  it.each([
    ["local", localAuth],
    ["cognito", cognito],
  ])("%s: redirects to the authorize URL with PKCE and exchanges the code", async (_mode, auth) => {
    const navigate = vi.fn();
    const url = new URL(await startSignIn(auth, "/documents/", { navigate }));
    expect(navigate).toHaveBeenCalledWith(url.toString());
    expect(`${url.origin}${url.pathname}`).toBe(auth.authorizeUrl);
    expect(url.searchParams.get("response_type")).toBe("code");
    expect(url.searchParams.get("client_id")).toBe(auth.clientId);
    expect(url.searchParams.get("redirect_uri")).toBe(`${window.location.origin}/signin/callback/`);
    expect(url.searchParams.get("scope")).toBe(auth.scopes.join(" "));
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    const state = url.searchParams.get("state")!;
    expect(state.length).toBeGreaterThan(20);

    const pending = JSON.parse(window.sessionStorage.getItem("ragline.auth.pending")!);
    expect(url.searchParams.get("code_challenge")).toBe(nodeChallenge(pending.verifier));

    const idToken = jwt({ sub: "u-1", email: "ada@example.com", "custom:tenant": "acme", exp: Math.floor(Date.now() / 1000) + 3600 });
    const fetchImpl = vi.fn().mockResolvedValue(
      new Response(JSON.stringify({ id_token: idToken, access_token: "at", expires_in: 3600, token_type: "Bearer" }), {
        status: 200,
        headers: { "Content-Type": "application/json" },
      }),
    );
    const { session, returnTo } = await completeSignIn(auth, `?code=the-code&state=${state}`, { fetchImpl });
    expect(returnTo).toBe("/documents/");
    expect(session.idToken).toBe(idToken);

    const [tokenUrl, init] = fetchImpl.mock.calls[0];
    expect(tokenUrl).toBe(auth.tokenUrl);
    expect(init.method).toBe("POST");
    expect(init.headers["Content-Type"]).toBe("application/x-www-form-urlencoded");
    const body = new URLSearchParams(init.body);
    expect(Object.fromEntries(body)).toEqual({
      grant_type: "authorization_code",
      code: "the-code",
      code_verifier: pending.verifier,
      redirect_uri: `${window.location.origin}/signin/callback/`,
      client_id: auth.clientId,
    });

    // stored in sessionStorage, pending state consumed
    expect(window.sessionStorage.getItem("ragline.auth.pending")).toBeNull();
    expect(loadSession()?.idToken).toBe(idToken);
    expect(userFromSession(session)).toMatchObject({ id: "u-1", email: "ada@example.com", tenant: "acme" });
  });

  it("rejects a callback whose state does not match", async () => {
    await startSignIn(localAuth, "/", { navigate: () => {} });
    const fetchImpl = vi.fn();
    await expect(completeSignIn(localAuth, "?code=c&state=forged", { fetchImpl })).rejects.toThrow(AuthError);
    expect(fetchImpl).not.toHaveBeenCalled();
  });

  it("reports an error from the authorization server in words", async () => {
    await expect(
      completeSignIn(localAuth, "?error=access_denied&error_description=User+cancelled", { fetchImpl: vi.fn() }),
    ).rejects.toThrow("Sign-in was not completed: User cancelled.");
  });

  it("reports a refused token exchange", async () => {
    const url = new URL(await startSignIn(localAuth, "/", { navigate: () => {} }));
    const fetchImpl = vi.fn().mockResolvedValue(
      new Response(JSON.stringify({ error: "invalid_grant", error_description: "code expired" }), { status: 400 }),
    );
    await expect(
      completeSignIn(localAuth, `?code=c&state=${url.searchParams.get("state")}`, { fetchImpl }),
    ).rejects.toThrow("Sign-in failed: the token endpoint answered HTTP 400 (code expired). Sign in again.");
  });

  it("forgets expired sessions", () => {
    window.sessionStorage.setItem(
      "ragline.auth.session",
      JSON.stringify({ idToken: "x", accessToken: null, refreshToken: null, expiresAt: Date.now() + 5_000 }),
    );
    expect(loadSession()).toBeNull();
    expect(window.sessionStorage.getItem("ragline.auth.session")).toBeNull();
  });

  it("only returns to same-site paths", () => {
    expect(safeReturnPath("/search/?q=x")).toBe("/search/?q=x");
    expect(safeReturnPath("https://evil.example/")).toBe("/");
    expect(safeReturnPath("//evil.example/")).toBe("/");
    expect(safeReturnPath("/signin/callback/?code=1")).toBe("/");
  });

  it("signs out through Cognito's logout endpoint, and locally just forgets the tokens", () => {
    window.sessionStorage.setItem("ragline.auth.session", "{}");
    const navigate = vi.fn();
    signOut(cognito, { navigate });
    const url = new URL(navigate.mock.calls[0][0]);
    expect(`${url.origin}${url.pathname}`).toBe(cognito.logoutUrl);
    expect(url.searchParams.get("client_id")).toBe("abc123");
    expect(url.searchParams.get("logout_uri")).toBe(`${window.location.origin}/`);
    expect(window.sessionStorage.getItem("ragline.auth.session")).toBeNull();

    signOut(localAuth, { navigate });
    expect(navigate).toHaveBeenLastCalledWith("/");
  });
});
