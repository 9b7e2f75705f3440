"use client";

import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { ApiClient } from "@/lib/api";
import { clearSession, loadSession, signOut as authSignOut, startSignIn, userFromSession, type Session, type User } from "@/lib/auth";
import { loadConfig, type AppConfig } from "@/lib/config";

type Phase =
  | { phase: "loading" }
  | { phase: "config-error"; message: string }
  | { phase: "ready"; config: AppConfig };

export interface AppContextValue {
  phase: Phase["phase"];
  configError: string | null;
  config: AppConfig | null;
  session: Session | null;
  user: User | null;
  /** Why the user was signed out (e.g. an expired session), shown on the sign-in screen. */
  signedOutReason: string | null;
  api: ApiClient | null;
  signIn: (returnTo?: string) => Promise<void>;
  signOut: () => void;
  setSession: (session: Session) => void;
  retryConfig: () => void;
}

const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (!value) throw new Error("useApp() must be used inside <AppProvider>");
  return value;
}

/** The API client for signed-in pages (they only render when there is one). */
export function useApi(): ApiClient {
  const { api } = useApp();
  if (!api) throw new Error("The API client is not ready: the app is not configured or not signed in.");
  return api;
}

export function AppProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<Phase>({ phase: "loading" });
  const [session, setSessionState] = useState<Session | null>(null);
  const [signedOutReason, setSignedOutReason] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let cancelled = false;
    loadConfig().then(
      (config) => {
        if (cancelled) return;
        setSessionState(loadSession());
        setState({ phase: "ready", config });
      },
      (error: unknown) => {
        if (!cancelled) setState({ phase: "config-error", message: error instanceof Error ? error.message : String(error) });
      },
    );
    return () => {
      cancelled = true;
    };
  }, [attempt]);

  const config = state.phase === "ready" ? state.config : null;

  const setSession = useCallback((next: Session) => {
    setSignedOutReason(null);
    setSessionState(next);
  }, []);

  const api = useMemo(() => {
    if (!config) return null;
    return new ApiClient({
      baseUrl: config.apiUrl,
      // sessionStorage is the source of truth: loadSession() also drops expired tokens.
      getToken: () => loadSession()?.idToken ?? null,
      onUnauthorized: () => {
        clearSession();
        setSignedOutReason("Your session has expired. Sign in again to continue.");
        setSessionState(null);
      },
    });
  }, [config]);

  const signIn = useCallback(
    async (returnTo?: string) => {
      if (!config) return;
      await startSignIn(config.auth, returnTo ?? `${window.location.pathname}${window.location.search}`);
    },
    [config],
  );

  const signOut = useCallback(() => {
    if (!config) return;
    setSessionState(null);
    authSignOut(config.auth);
  }, [config]);

  const value = useMemo<AppContextValue>(
    () => ({
      phase: state.phase,
      configError: state.phase === "config-error" ? state.message : null,
      config,
      session,
      user: session ? userFromSession(session) : null,
      signedOutReason,
      api,
      signIn,
      signOut,
      setSession,
      retryConfig: () => {
        setState({ phase: "loading" });
        setAttempt((n) => n + 1);
      },
    }),
    [state, config, session, signedOutReason, api, signIn, signOut, setSession],
  );

  return <AppContext.Provider value={value}>{children}</AppContext.Provider>;
}
