/**
 * Runtime configuration: fetched from /config.json when the app starts (written at deploy
 * time on AWS, served by `ragline dev` locally), so one static build serves every environment.
 * Shape: docs/api.md, "Web app runtime configuration".
 */

export type AuthMode = "cognito" | "local";

export interface AuthConfig {
  mode: AuthMode;
  authorizeUrl: string;
  tokenUrl: string;
  logoutUrl: string | null;
  clientId: string;
  scopes: string[];
}

export interface AppConfig {
  apiUrl: string;
  auth: AuthConfig;
}

export const CONFIG_PATH = "/config.json";

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function requireString(obj: Record<string, unknown>, key: string, where: string): string {
  const value = obj[key];
  if (typeof value !== "string" || value.trim() === "") {
    throw new ConfigError(`${CONFIG_PATH}: "${where}${key}" must be a non-empty string.`);
  }
  return value.trim();
}

/** Validates the parsed JSON of /config.json; throws ConfigError naming the bad field. */
export function parseConfig(raw: unknown): AppConfig {
  if (!isRecord(raw)) throw new ConfigError(`${CONFIG_PATH} must be a JSON object.`);
  const apiUrl = requireString(raw, "apiUrl", "");
  const auth = raw.auth;
  if (!isRecord(auth)) throw new ConfigError(`${CONFIG_PATH}: "auth" must be an object.`);
  const mode = auth.mode;
  if (mode !== "cognito" && mode !== "local") {
    throw new ConfigError(`${CONFIG_PATH}: "auth.mode" must be "cognito" or "local".`);
  }
  const logoutUrl = auth.logoutUrl;
  if (logoutUrl !== undefined && logoutUrl !== null && typeof logoutUrl !== "string") {
    throw new ConfigError(`${CONFIG_PATH}: "auth.logoutUrl" must be a string or null.`);
  }
  const scopes = auth.scopes ?? ["openid", "email", "profile"];
  if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === "string")) {
    throw new ConfigError(`${CONFIG_PATH}: "auth.scopes" must be a list of strings.`);
  }
  return {
    apiUrl: apiUrl.replace(/\/+$/, ""),
    auth: {
      mode,
      authorizeUrl: requireString(auth, "authorizeUrl", "auth."),
      tokenUrl: requireString(auth, "tokenUrl", "auth."),
      logoutUrl: typeof logoutUrl === "string" && logoutUrl.trim() !== "" ? logoutUrl.trim() : null,
      clientId: requireString(auth, "clientId", "auth."),
      scopes: scopes as string[],
    },
  };
}

let cached: Promise<AppConfig> | null = null;

/** Fetches and validates /config.json once per page load. */
export function loadConfig(fetchImpl: typeof fetch = fetch): Promise<AppConfig> {
  if (!cached) {
    cached = (async () => {
      let response: Response;
      try {
        response = await fetchImpl(CONFIG_PATH, { cache: "no-store", headers: { Accept: "application/json" } });
      } catch {
        throw new ConfigError(`Could not download ${CONFIG_PATH}. Check your connection and reload the page.`);
      }
      if (!response.ok) {
        throw new ConfigError(
          `${CONFIG_PATH} answered HTTP ${response.status}. The site is not configured: deploy it again or start it with \`ragline dev\`.`,
        );
      }
      let raw: unknown;
      try {
        raw = await response.json();
      } catch {
        throw new ConfigError(`${CONFIG_PATH} is not valid JSON.`);
      }
      return parseConfig(raw);
    })();
    cached.catch(() => {
      cached = null; // let a retry fetch it again
    });
  }
  return cached;
}

/** For tests. */
export function resetConfigCache(): void {
  cached = null;
}
