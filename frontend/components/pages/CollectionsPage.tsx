"use client";

import { useEffect, useState, type FormEvent } from "react";
import { ApiError, type AuditEvent, type CollectionSummary } from "@/lib/api";
import { AdminOnly } from "../AdminOnly";
import { useApi } from "../AppProvider";

const DEFAULT_COLLECTION = "default";

export function CollectionsPage() {
  return (
    <AdminOnly>
      <CollectionsView />
    </AdminOnly>
  );
}

function message(err: unknown): string {
  return err instanceof ApiError ? err.message : "Something went wrong. Try again.";
}

function CollectionsView() {
  const api = useApi();
  const [collections, setCollections] = useState<CollectionSummary[] | null>(null);
  const [events, setEvents] = useState<AuditEvent[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [collection, setCollection] = useState("");
  const [group, setGroup] = useState("reader");

  const [version, setVersion] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    Promise.all([api.collectionGrants(), api.audit({ limit: 50 })]).then(
      ([grants, audit]) => {
        if (controller.signal.aborted) return;
        setCollections(grants.collections);
        setEvents(audit.events);
      },
      (err: unknown) => {
        if (!controller.signal.aborted) setError(message(err));
      },
    );
    return () => controller.abort();
  }, [api, version]);

  const change = async (action: () => Promise<unknown>) => {
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(message(err));
    }
    setVersion((n) => n + 1);
  };

  const grant = (event: FormEvent) => {
    event.preventDefault();
    if (!collection.trim() || !group.trim()) return;
    void change(() => api.grant(collection.trim(), group.trim()));
  };

  return (
    <div className="page">
      <div className="page__intro">
        <h1 className="page__title">Collections</h1>
        <p className="muted">
          A collection is the first folder under your workspace. Everyone reads <code>{DEFAULT_COLLECTION}</code>; other
          collections only the groups you grant them to (and admins). A grant to <code>reader</code> reaches everyone.
        </p>
      </div>
      {error ? (
        <p className="notice notice--error" role="alert" data-testid="collections-error">
          {error}
        </p>
      ) : null}
      <form className="card search__row" onSubmit={grant} aria-label="Grant a collection">
        <div className="field field--grow">
          <label htmlFor="grant-collection" className="label">
            Collection
          </label>
          <input id="grant-collection" className="input" list="known-collections" data-testid="grant-collection"
            value={collection} onChange={(e) => setCollection(e.target.value)} required />
          <datalist id="known-collections">
            {(collections ?? []).filter((c) => c.name !== DEFAULT_COLLECTION).map((c) => (
              <option key={c.name} value={c.name} />
            ))}
          </datalist>
        </div>
        <div className="field">
          <label htmlFor="grant-group" className="label">
            Group
          </label>
          <input id="grant-group" className="input" list="role-groups" data-testid="grant-group" value={group}
            onChange={(e) => setGroup(e.target.value)} required />
          <datalist id="role-groups">
            <option value="reader" />
            <option value="editor" />
            <option value="admin" />
          </datalist>
        </div>
        <button type="submit" className="button button--primary" data-testid="grant-button">
          Grant
        </button>
      </form>
      <section className="card" aria-label="Collections and their groups">
        <table className="table" data-testid="collections-table">
          <thead>
            <tr>
              <th scope="col">Collection</th>
              <th scope="col">Documents</th>
              <th scope="col">Groups that read it</th>
            </tr>
          </thead>
          <tbody>
            {(collections ?? []).map((c) => (
              <tr key={c.name} data-testid={`collection-${c.name}`}>
                <td>{c.name}</td>
                <td>{c.document_count}</td>
                <td>
                  {c.name === DEFAULT_COLLECTION ? (
                    <span className="muted">everyone</span>
                  ) : (c.groups ?? []).length === 0 ? (
                    <span className="muted">admins only</span>
                  ) : (
                    (c.groups ?? []).map((g) => (
                      <span key={g} className="chip">
                        {g}{" "}
                        <button type="button" className="button button--ghost button--small"
                          aria-label={`Revoke ${c.name} from ${g}`} data-testid={`revoke-${c.name}-${g}`}
                          onClick={() => void change(() => api.revoke(c.name, g))}>
                          ×
                        </button>
                      </span>
                    ))
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section className="card" aria-labelledby="audit-title">
        <h2 id="audit-title" className="card__title">Audit trail</h2>
        {events.length === 0 ? (
          <p className="muted">Nothing recorded yet.</p>
        ) : (
          <table className="table" data-testid="audit-table">
            <thead>
              <tr>
                <th scope="col">When (UTC)</th>
                <th scope="col">Who</th>
                <th scope="col">What</th>
                <th scope="col">Target</th>
              </tr>
            </thead>
            <tbody>
              {events.map((e) => (
                <tr key={e.id}>
                  <td>{e.created_at.replace("T", " ").slice(0, 19)}</td>
                  <td>
                    {e.actor} <span className="muted small">({e.actor_role})</span>
                  </td>
                  <td>{e.action}</td>
                  <td title={e.detail ?? undefined}>{e.target}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}
