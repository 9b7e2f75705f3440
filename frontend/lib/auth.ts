/**
 * Sign-in: OAuth 2.0 authorization code flow with PKCE (S256).
 *
 * One code path for both modes. On AWS the URLs point at the Cognito hosted UI
 * (/oauth2/authorize, /oauth2/token, /logout); locally `ragline dev` serves the same protocol
 * at /dev-auth/authorize and /dev-auth/token. The mode changes only the URLs in /config.json.
 * Tokens live in sessionStorage (gone when the tab closes); the id token is the bearer token.
 */

import { groupsOf, roleOf, type Role } from "./roles";
import type { AuthConfig } from "./config";
import { sha256 } from "./sha256";

export const CALLBACK_PATH = "/signin/callback/";
const PENDING_KEY = "ragline.auth.pending";
const SESSION_KEY = "ragline.auth.session";
/** Treat tokens as expired this long before they really expire. */
const EXPIRY_SKEW_MS = 30_000;

export interface Session {
  idToken: string;
  accessToken: string | null;
  refreshToken: string | null;
  /** Epoch milliseconds. */
  expiresAt: number;
}

export interface PendingSignIn {
  state: string;
  verifier: string;
  redirectUri: string;
  returnTo: string;
}

export interface User {
  id: string;
  name: string;
  email: string | null;
  tenant: string | null;
  /** From `cognito:groups` (lib/roles.ts): what the web app shows; the API enforces it. */
  role: Role;
  groups: string[];
}

export class AuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AuthError";
  }
}

function defaultStorage(): Storage {
  return window.sessionStorage;
}

export function base64UrlEncode(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function base64UrlDecode(text: string): string {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  const binary = atob(padded);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

function randomString(byteCount: number): string {
  const bytes = new Uint8Array(byteCount);
  crypto.getRandomValues(bytes);
  return base64UrlEncode(bytes);
}

/** A PKCE code verifier: 64 characters of [A-Za-z0-9-_] (RFC 7636 allows 43..128). */
export function createCodeVerifier(): string {
  return randomString(48);
}

/** The S256 code challenge: base64url(SHA-256(ASCII(verifier))), no padding. */
export async function createCodeChallenge(verifier: string): Promise<string> {
  return base64UrlEncode(await sha256(new TextEncoder().encode(verifier)));
}

export function callbackUrl(origin: string = window.location.origin): string {
  return `${origin}${CALLBACK_PATH}`;
}

export function buildAuthorizeUrl(
  auth: AuthConfig,
  params: { state: string; codeChallenge: string; redirectUri: string },
): string {
  const url = new URL(auth.authorizeUrl, window.location.href);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", auth.clientId);
  url.searchParams.set("redirect_uri", params.redirectUri);
  url.searchParams.set("scope", auth.scopes.join(" "));
  url.searchParams.set("state", params.state);
  url.searchParams.set("code_challenge", params.codeChallenge);
  url.searchParams.set("code_challenge_method", "S256");
  return url.toString();
}

export interface NavOptions {
  storage?: Storage;
  navigate?: (url: string) => void;
}

/** Starts sign-in: remembers state + verifier, then sends the browser to the authorize URL. */
export async function startSignIn(auth: AuthConfig, returnTo = "/", options: NavOptions = {}): Promise<string> {
  const storage = options.storage ?? defaultStorage();
  const verifier = createCodeVerifier();
  const pending: PendingSignIn = {
    state: randomString(24),
    verifier,
    redirectUri: callbackUrl(),
    returnTo: safeReturnPath(returnTo),
  };
  storage.setItem(PENDING_KEY, JSON.stringify(pending));
  const url = buildAuthorizeUrl(auth, {
    state: pending.state,
    codeChallenge: await createCodeChallenge(verifier),
    redirectUri: pending.redirectUri,
  });
  (options.navigate ?? ((u: string) => window.location.assign(u)))(url);
  return url;
}

/** Only same-site paths may be returned to after sign-in. */
export function safeReturnPath(path: string): string {
  if (!path.startsWith("/") || path.startsWith("//") || path.startsWith(CALLBACK_PATH)) return "/";
  return path;
}

interface TokenResponse {
  id_token?: string;
  access_token?: string;
  refresh_token?: string;
  expires_in?: number;
}

async function tokenErrorMessage(response: Response): Promise<string> {
  let detail = "";
  try {
    const body = (await response.json()) as Record<string, unknown>;
    const err = body.error;
    if (typeof err === "object" && err !== null && typeof (err as { message?: unknown }).message === "string") {
      detail = (err as { message: string }).message;
    } else if (typeof body.error_description === "string") {
      detail = body.error_description;
    } else if (typeof err === "string") {
      detail = err;
    }
  } catch {
    // not JSON
  }
  return `Sign-in failed: the token endpoint answered HTTP ${response.status}${detail ? ` (${detail})` : ""}. Sign in again.`;
}

/**
 * Finishes sign-in on the callback page: checks `state`, exchanges the code (with the
 * verifier) for tokens, stores the session. Returns the path to go back to.
 */
export async function completeSignIn(
  auth: AuthConfig,
  search: string,
  options: { storage?: Storage; fetchImpl?: typeof fetch; now?: number } = {},
): Promise<{ session: Session; returnTo: string }> {
  const storage = options.storage ?? defaultStorage();
  const fetchImpl = options.fetchImpl ?? fetch;
  const params = new URLSearchParams(search);
  const error = params.get("error");
  if (error) {
    const description = params.get("error_description");
    throw new AuthError(`Sign-in was not completed: ${description || error}.`);
  }
  const code = params.get("code");
  const state = params.get("state");
  if (!code || !state) throw new AuthError("This page needs a sign-in code. Start again from the sign-in button.");
  const rawPending = storage.getItem(PENDING_KEY);
  const pending = rawPending ? (JSON.parse(rawPending) as PendingSignIn) : null;
  if (!pending || pending.state !== state) {
    throw new AuthError("This sign-in response does not match a sign-in started in this tab. Sign in again.");
  }
  storage.removeItem(PENDING_KEY);

  const body = new URLSearchParams({
    grant_type: "authorization_code",
    code,
    code_verifier: pending.verifier,
    redirect_uri: pending.redirectUri,
    client_id: auth.clientId,
  });
  let response: Response;
  try {
    response = await fetchImpl(auth.tokenUrl, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
      body: body.toString(),
    });
  } catch {
    throw new AuthError(`Sign-in failed: could not reach ${auth.tokenUrl}. Check your connection and sign in again.`);
  }
  if (!response.ok) throw new AuthError(await tokenErrorMessage(response));
  const tokens = (await response.json()) as TokenResponse;
  if (!tokens.id_token) throw new AuthError("Sign-in failed: the token endpoint returned no id token.");

  const now = options.now ?? Date.now();
  const claims = decodeJwtClaims(tokens.id_token);
  const expiries = [] as number[];
  if (typeof tokens.expires_in === "number") expiries.push(now + tokens.expires_in * 1000);
  if (typeof claims.exp === "number") expiries.push(claims.exp * 1000);
  const session: Session = {
    idToken: tokens.id_token,
    accessToken: tokens.access_token ?? null,
    refreshToken: tokens.refresh_token ?? null,
    expiresAt: expiries.length ? Math.min(...expiries) : now + 3600_000,
  };
  storage.setItem(SESSION_KEY, JSON.stringify(session));
  return { session, returnTo: safeReturnPath(pending.returnTo) };
}

/** The stored session, or null when there is none or it has expired. */
export function loadSession(storage: Storage = defaultStorage(), now: number = Date.now()): Session | null {
  const raw = storage.getItem(SESSION_KEY);
  if (!raw) return null;
  try {
    const session = JSON.parse(raw) as Session;
    if (typeof session.idToken !== "string" || session.expiresAt - EXPIRY_SKEW_MS <= now) {
      storage.removeItem(SESSION_KEY);
      return null;
    }
    return session;
  } catch {
    storage.removeItem(SESSION_KEY);
    return null;
  }
}

export function clearSession(storage: Storage = defaultStorage()): void {
  storage.removeItem(SESSION_KEY);
  storage.removeItem(PENDING_KEY);
}

export function decodeJwtClaims(token: string): Record<string, unknown> {
  const parts = token.split(".");
  if (parts.length < 2) return {};
  try {
    const claims = JSON.parse(base64UrlDecode(parts[1])) as unknown;
    return typeof claims === "object" && claims !== null ? (claims as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export function userFromSession(session: Session): User {
  const claims = decodeJwtClaims(session.idToken);
  const str = (key: string) => (typeof claims[key] === "string" ? (claims[key] as string) : null);
  const email = str("email");
  return {
    id: str("sub") ?? "unknown",
    name: str("cognito:username") ?? str("name") ?? str("preferred_username") ?? email ?? str("sub") ?? "Signed in",
    email,
    tenant: str("custom:tenant"),
    role: roleOf(groupsOf(claims)),
    groups: groupsOf(claims),
  };
}

/** Forgets the tokens; on Cognito also ends the hosted-UI session. */
export function signOut(auth: AuthConfig, options: NavOptions = {}): void {
  clearSession(options.storage ?? defaultStorage());
  const navigate = options.navigate ?? ((u: string) => window.location.assign(u));
  if (auth.logoutUrl) {
    const url = new URL(auth.logoutUrl, window.location.href);
    url.searchParams.set("client_id", auth.clientId);
    url.searchParams.set("logout_uri", `${window.location.origin}/`);
    navigate(url.toString());
  } else {
    navigate("/");
  }
}
