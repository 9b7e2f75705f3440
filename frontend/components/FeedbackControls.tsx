"use client";

import { useId, useState } from "react";
import type { FeedbackRequest } from "@/lib/api";
import { ThumbDownIcon, ThumbUpIcon } from "./Icons";

type Rating = FeedbackRequest["rating"];
type Status = { kind: "idle" } | { kind: "sending" } | { kind: "sent" } | { kind: "error"; message: string };

export const MAX_COMMENT = 2000;

/** Thumbs up/down with an optional comment, sent to POST /feedback. */
export function FeedbackControls({
  queryId,
  onSend,
}: {
  queryId: string;
  onSend: (request: FeedbackRequest) => Promise<unknown>;
}) {
  const [rating, setRating] = useState<Rating | null>(null);
  const [comment, setComment] = useState("");
  const [status, setStatus] = useState<Status>({ kind: "idle" });
  const id = useId();

  if (status.kind === "sent") {
    return (
      <div className="feedback feedback--sent" role="status" data-testid="feedback-status">
        Thanks — your feedback was recorded.
      </div>
    );
  }

  const send = async () => {
    if (!rating) return;
    setStatus({ kind: "sending" });
    const trimmed = comment.trim();
    try {
      await onSend({ query_id: queryId, rating, ...(trimmed ? { comment: trimmed } : {}) });
      setStatus({ kind: "sent" });
    } catch (error) {
      setStatus({
        kind: "error",
        message: error instanceof Error ? error.message : "Your feedback could not be sent. Try again.",
      });
    }
  };

  return (
    <form
      className="feedback"
      data-testid="feedback"
      aria-labelledby={`${id}-q`}
      onSubmit={(event) => {
        event.preventDefault();
        void send();
      }}
    >
      <div className="feedback__row">
        <span id={`${id}-q`} className="feedback__question">
          Was this answer helpful?
        </span>
        <div className="feedback__thumbs" role="group" aria-labelledby={`${id}-q`}>
          <button
            type="button"
            className="toggle-button"
            aria-pressed={rating === "up"}
            data-testid="feedback-up"
            onClick={() => setRating("up")}
          >
            <ThumbUpIcon />
            <span>Helpful</span>
          </button>
          <button
            type="button"
            className="toggle-button"
            aria-pressed={rating === "down"}
            data-testid="feedback-down"
            onClick={() => setRating("down")}
          >
            <ThumbDownIcon />
            <span>Not helpful</span>
          </button>
        </div>
      </div>
      {rating ? (
        <div className="feedback__details">
          <label htmlFor={`${id}-comment`} className="label">
            Comment (optional)
          </label>
          <textarea
            id={`${id}-comment`}
            className="input"
            data-testid="feedback-comment"
            rows={2}
            maxLength={MAX_COMMENT}
            value={comment}
            placeholder={rating === "up" ? "What was useful?" : "What was wrong or missing?"}
            onChange={(event) => setComment(event.target.value)}
          />
          <div className="feedback__actions">
            <button
              type="submit"
              className="button button--primary"
              data-testid="feedback-send"
              disabled={status.kind === "sending"}
            >
              {status.kind === "sending" ? "Sending…" : "Send feedback"}
            </button>
          </div>
        </div>
      ) : null}
      {status.kind === "error" ? (
        <p className="field-error" role="alert" data-testid="feedback-error">
          {status.message}
        </p>
      ) : null}
    </form>
  );
}
