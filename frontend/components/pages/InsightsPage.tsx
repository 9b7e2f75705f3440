"use client";

import { useCallback, useEffect, useState, type FormEvent } from "react";
import { Bar, BarChart, CartesianGrid, Legend, Tooltip, XAxis, YAxis } from "recharts";
import { ApiError, type Insights } from "@/lib/api";
import { insightsCsv } from "@/lib/insightsCsv";
import { AdminOnly } from "../AdminOnly";
import { useApi } from "../AppProvider";
import { Spinner } from "../Spinner";

const CHART = { width: 640, height: 240 };
const REASONS: Record<string, string> = {
  no_passage: "nothing retrieved",
  low_score: "low best score",
  thumbs_down: "thumbs-down",
};

function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** The last 30 UTC days, today included (the API's default range). */
export function defaultRange(now: Date = new Date()): { from: string; to: string } {
  const from = new Date(now.getTime() - 29 * 86_400_000);
  return { from: isoDay(from), to: isoDay(now) };
}

export function InsightsPage() {
  return (
    <AdminOnly>
      <InsightsView />
    </AdminOnly>
  );
}

function InsightsView() {
  const api = useApi();
  const [range, setRange] = useState(defaultRange);
  const [draft, setDraft] = useState(range);
  const [data, setData] = useState<Insights | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);

  useEffect(() => {
    const controller = new AbortController();
    api
      .insights(range, controller.signal)
      .then(setData)
      .catch((err: unknown) => {
        if (err instanceof DOMException && err.name === "AbortError") return;
        setError(err instanceof ApiError ? err.message : "Could not load insights. Try again.");
      })
      .finally(() => setLoading(false));
    return () => controller.abort();
  }, [api, range]);

  const apply = (event: FormEvent) => {
    event.preventDefault();
    setLoading(true);
    setError(null);
    setRange({ ...draft });
  };

  const exportCsv = useCallback(() => {
    if (!data) return;
    const url = URL.createObjectURL(new Blob([insightsCsv(data)], { type: "text/csv;charset=utf-8" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = `ragline-insights-${data.from}-${data.to}.csv`;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }, [data]);

  return (
    <div className="page insights">
      <div className="page__intro">
        <h1 className="page__title">Insights</h1>
        <p className="muted">What your team asks, how well Ragline answers, what it costs. Days are UTC.</p>
      </div>
      <form className="card insights__range" onSubmit={apply} aria-label="Date range">
        <div className="field">
          <label htmlFor="insights-from" className="label">
            From
          </label>
          <input id="insights-from" type="date" className="input" data-testid="insights-from" value={draft.from}
            max={draft.to} onChange={(e) => setDraft({ ...draft, from: e.target.value })} required />
        </div>
        <div className="field">
          <label htmlFor="insights-to" className="label">
            To
          </label>
          <input id="insights-to" type="date" className="input" data-testid="insights-to" value={draft.to}
            min={draft.from} onChange={(e) => setDraft({ ...draft, to: e.target.value })} required />
        </div>
        <button type="submit" className="button button--primary" data-testid="insights-apply">
          Show
        </button>
        <button type="button" className="button" data-testid="insights-export" disabled={!data} onClick={exportCsv}>
          Export CSV
        </button>
      </form>
      {error ? (
        <p className="notice notice--error" role="alert" data-testid="insights-error">
          {error}
        </p>
      ) : null}
      {loading && !data ? (
        <div className="center-state" role="status">
          <Spinner /> Loading insights…
        </div>
      ) : null}
      {data ? <Figures data={data} /> : null}
    </div>
  );
}

function Figures({ data }: { data: Insights }) {
  const rate = data.cache_hit_rate === null ? "–" : `${(data.cache_hit_rate * 100).toFixed(1)}%`;
  const latency = data.latency.map((s) => ({ stage: s.stage, p50: s.p50_ms ?? 0, p95: s.p95_ms ?? 0 }));
  return (
    <div className="insights__figures" data-testid="insights-figures">
      <section className="insights__tiles" aria-label="Summary">
        <Tile label="Questions" value={data.queries} testId="tile-queries" />
        <Tile label="Answer cache hit rate" value={rate} testId="tile-hit-rate" />
        <Tile label="Thumbs up / down" value={`${data.feedback.up} / ${data.feedback.down}`} testId="tile-feedback" />
        <Tile label="Estimated cost" value={`$${data.tokens.estimated_cost_usd.toFixed(4)}`} testId="tile-cost" />
      </section>

      <section className="card" aria-labelledby="chart-queries">
        <h2 id="chart-queries" className="card__title">Questions per day</h2>
        <div className="chart" data-testid="chart-queries-per-day">
          <BarChart {...CHART} data={data.queries_per_day}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="day" />
            <YAxis allowDecimals={false} />
            <Tooltip />
            <Legend />
            <Bar dataKey="queries" name="questions" fill="#3b5bdb" isAnimationActive={false} />
            <Bar dataKey="cache_hits" name="cache hits" fill="#74c0fc" isAnimationActive={false} />
          </BarChart>
        </div>
      </section>

      <section className="card" aria-labelledby="chart-latency">
        <h2 id="chart-latency" className="card__title">Latency per stage (ms)</h2>
        <div className="chart" data-testid="chart-latency">
          <BarChart {...CHART} data={latency}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="stage" />
            <YAxis />
            <Tooltip />
            <Legend />
            <Bar dataKey="p50" name="p50" fill="#2f9e44" isAnimationActive={false} />
            <Bar dataKey="p95" name="p95" fill="#f08c00" isAnimationActive={false} />
          </BarChart>
        </div>
      </section>

      <Table title="Unanswered questions" testId="table-unanswered" empty="Every question found a good passage."
        head={["Question", "Why", "Times", "Best score"]}
        rows={data.unanswered.map((q) => [q.question, REASONS[q.reason] ?? q.reason, q.times,
          q.top_score === null ? "–" : q.top_score.toFixed(4)])} />
      <Table title="Feedback comments" testId="table-comments" empty="No comments in this range."
        head={["Question", "Rating", "Comment"]}
        rows={data.feedback.comments.map((c) => [c.question, c.rating === "up" ? "thumbs up" : "thumbs down", c.comment])} />
      <Table title="Most cited documents" testId="table-most-cited" empty="No answer cited a document."
        head={["Document", "Citations"]} rows={data.most_cited.map((d) => [d.file_name, d.citations])} />
      <Table title={`Never cited (${data.never_cited_count})`} testId="table-never-cited"
        empty="Every ready document was cited." head={["Document"]}
        rows={data.never_cited.map((d) => [d.file_name])} />
      <Table title="Ingestion failures" testId="table-failures" empty="No document failed in this range."
        head={["Step", "Reason", "Documents"]}
        rows={data.ingestion_failures.map((f) => [f.step ?? "–", f.reason, f.documents])} />
      <Table title="Tokens" testId="table-tokens" empty="" head={["Kind", "Tokens", "USD per million"]}
        rows={[
          ["Embedding (estimated)", data.tokens.embedding_tokens, data.tokens.price_per_million.embedding ?? "–"],
          ["LLM prompt", data.tokens.llm_prompt_tokens, data.tokens.price_per_million.llm_prompt ?? "–"],
          ["LLM completion", data.tokens.llm_completion_tokens, data.tokens.price_per_million.llm_completion ?? "–"],
        ]} />
    </div>
  );
}

function Tile({ label, value, testId }: { label: string; value: string | number; testId: string }) {
  return (
    <div className="card insights__tile">
      <div className="muted small">{label}</div>
      <div className="insights__value" data-testid={testId}>
        {value}
      </div>
    </div>
  );
}

function Table({ title, head, rows, empty, testId }: {
  title: string; head: string[]; rows: (string | number)[][]; empty: string; testId: string;
}) {
  return (
    <section className="card" aria-label={title}>
      <h2 className="card__title">{title}</h2>
      {rows.length === 0 ? (
        <p className="muted">{empty}</p>
      ) : (
        <table className="table" data-testid={testId}>
          <thead>
            <tr>{head.map((h) => <th key={h} scope="col">{h}</th>)}</tr>
          </thead>
          <tbody>
            {rows.map((row, i) => (
              <tr key={i}>{row.map((value, j) => <td key={j}>{value}</td>)}</tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
