"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { useState, type ReactNode } from "react";
import { useApp } from "./AppProvider";
import { Spinner } from "./Spinner";
import { allows, type Role } from "@/lib/roles";

const NAV: { href: string; label: string; role: Role }[] = [
  { href: "/", label: "Ask", role: "reader" },
  { href: "/chat/", label: "Chat", role: "reader" },
  { href: "/search/", label: "Search", role: "reader" },
  { href: "/documents/", label: "Documents", role: "reader" },
  { href: "/collections/", label: "Collections", role: "admin" },
  { href: "/insights/", label: "Insights", role: "admin" },
];

function normalise(path: string | null): string {
  if (!path) return "/";
  return path.endsWith("/") ? path : `${path}/`;
}

export function AppShell({ children }: { children: ReactNode }) {
  const app = useApp();
  const pathname = normalise(usePathname());
  const isCallback = pathname.startsWith("/signin/callback/");
  const signedIn = Boolean(app.session);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <div className="site-header__inner">
          <Link href="/" className="brand" aria-label="Ragline home">
            <span className="brand__mark" aria-hidden="true">
              R
            </span>
            <span className="brand__name">Ragline</span>
          </Link>
          {signedIn && !isCallback ? (
            <>
              <nav aria-label="Main" className="main-nav" data-testid="app-nav">
                <ul>
                  {NAV.filter((item) => allows(app.user?.role ?? "reader", item.role)).map((item) => {
                    const current = item.href === "/" ? pathname === "/" : pathname.startsWith(item.href);
                    return (
                      <li key={item.href}>
                        <Link href={item.href} aria-current={current ? "page" : undefined} className="main-nav__link">
                          {item.label}
                        </Link>
                      </li>
                    );
                  })}
                </ul>
              </nav>
              <div className="user-menu" data-testid="user-menu">
                <span className="user-menu__who">
                  <span className="user-menu__name" data-testid="user-name">
                    {app.user?.name}
                  </span>
                  {app.user && app.user.role !== "reader" ? (
                    <span className="user-menu__role" data-testid="user-role">
                      {app.user.role}
                    </span>
                  ) : null}
                  {app.user?.tenant ? (
                    <span className="user-menu__tenant" data-testid="user-tenant">
                      {app.user.tenant}
                    </span>
                  ) : null}
                </span>
                <button type="button" className="button button--ghost button--small" onClick={app.signOut}>
                  Sign out
                </button>
              </div>
            </>
          ) : null}
        </div>
      </header>
      <main id="main" className="site-main" tabIndex={-1}>
        <Gate isCallback={isCallback}>{children}</Gate>
      </main>
    </>
  );
}

function Gate({ isCallback, children }: { isCallback: boolean; children: ReactNode }) {
  const app = useApp();
  if (app.phase === "loading") {
    return (
      <div className="center-state" role="status" data-testid="app-loading">
        <Spinner /> Loading Ragline…
      </div>
    );
  }
  if (app.phase === "config-error") {
    return (
      <div className="card card--narrow" role="alert" data-testid="config-error">
        <h1 className="card__title">Ragline is not configured</h1>
        <p>{app.configError}</p>
        <button type="button" className="button" onClick={app.retryConfig}>
          Try again
        </button>
      </div>
    );
  }
  if (isCallback || app.session) return <>{children}</>;
  return <SignInScreen />;
}

function SignInScreen() {
  const app = useApp();
  const [busy, setBusy] = useState(false);
  const local = app.config?.auth.mode === "local";
  return (
    <section className="card card--narrow signin" aria-labelledby="signin-title" data-testid="signin-screen">
      <h1 id="signin-title" className="card__title">
        Sign in to Ragline
      </h1>
      <p className="muted">
        Ask questions about your documents and get answers with citations. Sign in to upload documents and ask.
      </p>
      {app.signedOutReason ? (
        <p className="notice notice--warning" role="alert">
          {app.signedOutReason}
        </p>
      ) : null}
      <button
        type="button"
        className="button button--primary button--block"
        data-testid="signin-button"
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          try {
            await app.signIn();
          } finally {
            setBusy(false);
          }
        }}
      >
        {busy ? "Redirecting…" : "Sign in"}
      </button>
      {local ? (
        <p className="muted small">Local mode: a development sign-in stands in for Cognito, using the same sign-in flow.</p>
      ) : null}
    </section>
  );
}
