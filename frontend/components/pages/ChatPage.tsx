"use client";

import { useCallback, useEffect, useRef, useState, type FormEvent } from "react";
import {
  ApiError,
  type Citation,
  type Conversation,
  type ConversationMessage,
  type QueryResponse,
} from "@/lib/api";
import { AnswerView } from "../AnswerView";
import { useApi } from "../AppProvider";
import { FeedbackControls } from "../FeedbackControls";
import { MAX_QUESTION } from "./AskPage";

/** One question of the conversation as shown: while it streams, once answered, or stopped. */
export interface Turn {
  key: string;
  question: string;
  standaloneQuery: string | null;
  text: string;
  citations: Citation[] | null;
  status: "writing" | "answered" | "stopped" | "error";
  error?: string;
  messageId?: string;
  response?: QueryResponse;
}

function turnOf(message: ConversationMessage): Turn {
  return {
    key: message.id,
    question: message.question,
    standaloneQuery: message.standalone_query,
    text: message.answer,
    citations: message.citations,
    status: "answered",
    messageId: message.id,
    response: { ...message, query_id: message.query_id ?? message.id },
  };
}

function shownResponse(turn: Turn): QueryResponse {
  return (
    turn.response ?? {
      query_id: turn.key,
      answer: turn.text,
      answer_type: "generated",
      citations: turn.citations ?? [],
      cached: false,
      latency_ms: { total: Number.NaN },
      model: null,
      usage: null,
    }
  );
}

export function ChatPage() {
  const api = useApi();
  const [conversations, setConversations] = useState<Conversation[]>([]);
  const [listError, setListError] = useState<string | null>(null);
  const [current, setCurrent] = useState<string | null>(null);
  const [turns, setTurns] = useState<Turn[]>([]);
  const [question, setQuestion] = useState("");
  const [inputError, setInputError] = useState<string | null>(null);
  const stream = useRef<AbortController | null>(null);
  const writing = turns.some((turn) => turn.status === "writing");

  const refresh = useCallback(async () => {
    try {
      setConversations((await api.listConversations()).conversations);
      setListError(null);
    } catch (error) {
      setListError(error instanceof Error ? error.message : String(error));
    }
  }, [api]);

  useEffect(() => {
    const controller = new AbortController();
    api.listConversations({}, controller.signal).then(
      (page) => setConversations(page.conversations),
      (error: unknown) => {
        if (!controller.signal.aborted) setListError(error instanceof Error ? error.message : String(error));
      },
    );
    return () => {
      controller.abort();
      stream.current?.abort();
    };
  }, [api]);

  const update = (key: string, change: Partial<Turn> | ((turn: Turn) => Partial<Turn>)) =>
    setTurns((all) => all.map((t) => (t.key === key ? { ...t, ...(typeof change === "function" ? change(t) : change) } : t)));

  const open = async (conversationId: string) => {
    stream.current?.abort();
    setCurrent(conversationId);
    setTurns([]);
    try {
      const detail = await api.getConversation(conversationId);
      setTurns(detail.messages.map(turnOf));
    } catch (error) {
      setListError(error instanceof Error ? error.message : String(error));
    }
  };

  const startOver = () => {
    stream.current?.abort();
    setCurrent(null);
    setTurns([]);
  };

  const ask = async (event?: FormEvent) => {
    event?.preventDefault();
    const text = question.trim();
    if (!text) {
      setInputError("Type a question first.");
      return;
    }
    if (writing) return;
    setInputError(null);
    const controller = new AbortController();
    stream.current = controller;
    const key = `turn-${Date.now()}`;
    setTurns((all) => [...all, { key, question: text, standaloneQuery: null, text: "", citations: null, status: "writing" }]);
    setQuestion("");
    try {
      const conversationId = current ?? (await api.createConversation()).id;
      setCurrent(conversationId);
      const answer = await api.streamMessage(
        conversationId,
        { question: text },
        {
          onStart: (standaloneQuery) => update(key, { standaloneQuery }),
          onToken: (token) => update(key, (turn) => ({ text: turn.text + token })),
          onCitations: (citations) => update(key, { citations }),
        },
        controller.signal,
      );
      update(key, { status: "answered", text: answer.answer, citations: answer.citations, messageId: answer.message_id, response: answer });
      void refresh();
    } catch (error) {
      if (controller.signal.aborted) update(key, { status: "stopped" });
      else
        update(key, {
          status: "error",
          error: error instanceof ApiError || error instanceof Error ? error.message : String(error),
        });
    } finally {
      if (stream.current === controller) stream.current = null;
    }
  };

  const stop = () => stream.current?.abort();

  return (
    <div className="page chat" data-testid="chat-page">
      <aside className="chat__list card" aria-label="Conversations">
        <button type="button" className="button button--primary button--small" data-testid="new-conversation" onClick={startOver}>
          New conversation
        </button>
        {listError ? (
          <p className="field-error" role="alert">
            {listError}
          </p>
        ) : null}
        <ul className="chat__conversations" data-testid="conversation-list">
          {conversations.map((conversation) => (
            <li key={conversation.id}>
              <button
                type="button"
                className="chat__conversation"
                aria-current={conversation.id === current ? "true" : undefined}
                onClick={() => void open(conversation.id)}
              >
                {conversation.title || "Untitled conversation"}
              </button>
            </li>
          ))}
          {!conversations.length && !listError ? <li className="muted small">No conversations yet.</li> : null}
        </ul>
      </aside>

      <section className="chat__main" aria-label="Conversation">
        <div className="chat__turns" aria-live="polite">
          {!turns.length ? (
            <div className="empty-state" data-testid="chat-empty">
              <p className="empty-state__title">Ask a question, then follow up</p>
              <p className="muted">Follow-ups keep the context: “and the year before?” searches for what you mean.</p>
            </div>
          ) : null}
          {turns.map((turn) => (
            <div key={turn.key} className="chat__turn" data-testid="chat-turn" data-status={turn.status}>
              <p className="chat__question" data-testid="chat-question">
                {turn.question}
              </p>
              {turn.standaloneQuery && turn.standaloneQuery !== turn.question ? (
                <p className="muted small" data-testid="searched-for">
                  Searched for: {turn.standaloneQuery}
                </p>
              ) : null}
              <AnswerView response={shownResponse({ ...turn, response: turn.status === "answered" ? turn.response : undefined })}
                pending={turn.status === "writing"} />
              {turn.status === "stopped" ? (
                <p className="notice notice--info small" data-testid="answer-stopped">
                  Stopped. This answer was not saved.
                </p>
              ) : null}
              {turn.status === "error" ? (
                <p className="notice notice--error" role="alert" data-testid="chat-error">
                  {turn.error}
                </p>
              ) : null}
              {turn.status === "answered" && turn.messageId && current ? (
                <FeedbackControls
                  queryId={turn.messageId}
                  onSend={(request) =>
                    api.sendMessageFeedback(current, turn.messageId as string, {
                      rating: request.rating,
                      ...(request.comment ? { comment: request.comment } : {}),
                    })
                  }
                />
              ) : null}
            </div>
          ))}
        </div>

        <form className="chat__form card" onSubmit={ask} noValidate>
          <label htmlFor="chat-question" className="visually-hidden">
            Your question
          </label>
          <textarea
            id="chat-question"
            className="input chat__input"
            data-testid="chat-input"
            rows={2}
            maxLength={MAX_QUESTION}
            value={question}
            placeholder={turns.length ? "Ask a follow-up…" : "Ask about your documents…"}
            aria-invalid={inputError ? true : undefined}
            onChange={(event) => setQuestion(event.target.value)}
            onKeyDown={(event) => {
              if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
                event.preventDefault();
                void ask();
              }
            }}
          />
          {inputError ? (
            <p className="field-error" role="alert">
              {inputError}
            </p>
          ) : null}
          {writing ? (
            <button type="button" className="button" data-testid="stop-button" onClick={stop}>
              Stop
            </button>
          ) : (
            <button type="submit" className="button button--primary" data-testid="send-button">
              Send
            </button>
          )}
        </form>
      </section>
    </div>
  );
}
