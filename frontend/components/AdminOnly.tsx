"use client";

import type { ReactNode } from "react";
import { allows } from "@/lib/roles";
import { useApp } from "./AppProvider";

/** Renders its children for admins; others get a worded notice (the API would answer 403). */
export function AdminOnly({ children }: { children: ReactNode }) {
  const { user } = useApp();
  if (!allows(user?.role ?? "reader", "admin")) {
    return (
      <div className="card card--narrow" role="alert" data-testid="admin-only">
        <h1 className="card__title">Admins only</h1>
        <p>This page is for your workspace&apos;s administrators. Ask one to add you to the admin group.</p>
      </div>
    );
  }
  return <>{children}</>;
}
