"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useRef, useState } from "react";
import { completeSignIn } from "@/lib/auth";
import { useApp } from "../AppProvider";
import { Spinner } from "../Spinner";

/** Where the sign-in page sends the browser back with ?code=&state=. */
export function SignInCallback() {
  const app = useApp();
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const started = useRef(false);
  const { config, setSession } = app;

  useEffect(() => {
    if (!config || started.current) return;
    started.current = true; // the code can be exchanged only once (React strict mode runs effects twice)
    completeSignIn(config.auth, window.location.search).then(
      ({ session, returnTo }) => {
        setSession(session);
        router.replace(returnTo);
      },
      (err: unknown) => setError(err instanceof Error ? err.message : String(err)),
    );
  }, [config, setSession, router]);

  if (error) {
    return (
      <div className="card card--narrow" role="alert" data-testid="signin-error">
        <h1 className="card__title">Sign-in did not complete</h1>
        <p>{error}</p>
        <Link href="/" className="button button--primary">
          Back to sign in
        </Link>
      </div>
    );
  }
  return (
    <div className="center-state" role="status" data-testid="signin-completing">
      <Spinner /> Signing you in…
    </div>
  );
}
