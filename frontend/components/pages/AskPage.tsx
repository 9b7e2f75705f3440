"use client";

import { useRef, useState, type FormEvent } from "react";
import { ApiError, type QueryResponse, type SearchMode } from "@/lib/api";
import { AnswerView } from "../AnswerView";
import { useApi } from "../AppProvider";
import { FeedbackControls } from "../FeedbackControls";
import { Spinner } from "../Spinner";

export const MAX_QUESTION = 2000;

type State =
  | { kind: "idle" }
  | { kind: "loading"; question: string }
  | { kind: "error"; message: string; field: string | null }
  | { kind: "answered"; question: string; response: QueryResponse };

export function AskPage() {
  const api = useApi();
  const [question, setQuestion] = useState("");
  const [mode, setMode] = useState<SearchMode>("hybrid");
  const [topK, setTopK] = useState(6);
  const [state, setState] = useState<State>({ kind: "idle" });
  const controller = useRef<AbortController | null>(null);

  const ask = async (event?: FormEvent) => {
    event?.preventDefault();
    const text = question.trim();
    if (!text) {
      setState({ kind: "error", message: "Type a question first.", field: "body.question" });
      return;
    }
    controller.current?.abort();
    const current = new AbortController();
    controller.current = current;
    setState({ kind: "loading", question: text });
    try {
      const response = await api.query({ question: text, top_k: topK, mode }, current.signal);
      setState({ kind: "answered", question: text, response });
    } catch (error) {
      if (current.signal.aborted) return;
      if (error instanceof ApiError) setState({ kind: "error", message: error.message, field: error.field });
      else setState({ kind: "error", message: error instanceof Error ? error.message : String(error), field: null });
    }
  };

  const questionError = state.kind === "error" && state.field === "body.question" ? state.message : null;
  const loading = state.kind === "loading";

  return (
    <div className="page">
      <div className="page__intro">
        <h1 className="page__title">Ask your documents</h1>
        <p className="muted">Answers cite the passages they come from. Select a number to read the source.</p>
      </div>

      <form className="ask card" onSubmit={ask} aria-busy={loading} noValidate>
        <label htmlFor="question" className="label">
          Question
        </label>
        <textarea
          id="question"
          className="input ask__input"
          data-testid="question-input"
          rows={3}
          maxLength={MAX_QUESTION}
          value={question}
          placeholder="e.g. What was the probable cause of the accident?"
          aria-invalid={questionError ? true : undefined}
          aria-describedby={questionError ? "question-error question-hint" : "question-hint"}
          onChange={(event) => setQuestion(event.target.value)}
          onKeyDown={(event) => {
            if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
              event.preventDefault();
              void ask();
            }
          }}
        />
        {questionError ? (
          <p id="question-error" className="field-error" role="alert">
            {questionError}
          </p>
        ) : null}
        <div className="ask__row">
          <p id="question-hint" className="muted small">
            Enter to ask · Shift+Enter for a new line
          </p>
          <button type="submit" className="button button--primary" data-testid="ask-button" disabled={loading}>
            {loading ? "Asking…" : "Ask"}
          </button>
        </div>
        <details className="options">
          <summary>Options</summary>
          <div className="options__grid">
            <div className="field">
              <label htmlFor="ask-mode" className="label">
                Retrieval
              </label>
              <select id="ask-mode" className="input" value={mode} onChange={(e) => setMode(e.target.value as SearchMode)}>
                <option value="hybrid">Hybrid (meaning + keywords)</option>
                <option value="dense">Meaning only</option>
                <option value="sparse">Keywords only</option>
              </select>
            </div>
            <div className="field">
              <label htmlFor="ask-topk" className="label">
                Passages to read
              </label>
              <input
                id="ask-topk"
                className="input"
                type="number"
                min={1}
                max={20}
                value={topK}
                onChange={(e) => setTopK(Math.min(20, Math.max(1, Number(e.target.value) || 6)))}
              />
            </div>
          </div>
        </details>
      </form>

      <div aria-live="polite" className="ask__result">
        {state.kind === "idle" ? (
          <div className="empty-state" data-testid="ask-empty">
            <p className="empty-state__title">Ask anything about your documents</p>
            <p className="muted">Upload files on the Documents page first; once they show Ready you can ask about them.</p>
          </div>
        ) : null}
        {state.kind === "loading" ? (
          <div className="card center-state" role="status" data-testid="answer-loading">
            <Spinner /> Searching your documents and writing an answer…
          </div>
        ) : null}
        {state.kind === "error" && !questionError ? (
          <div className="notice notice--error" role="alert" data-testid="ask-error">
            <p>{state.message}</p>
            <button type="button" className="button button--small" onClick={() => void ask()}>
              Try again
            </button>
          </div>
        ) : null}
        {state.kind === "answered" ? (
          <>
            <AnswerView key={state.response.query_id} response={state.response} question={state.question} />
            <FeedbackControls
              key={`fb-${state.response.query_id}`}
              queryId={state.response.query_id}
              onSend={(request) => api.sendFeedback(request)}
            />
          </>
        ) : null}
      </div>
    </div>
  );
}
