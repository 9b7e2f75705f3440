import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { AnswerView, splitAnswer } from "@/components/AnswerView";
import { queryResponse } from "./fixtures";

describe("splitAnswer", () => {
  it("separates text from [n] markers, including grouped ones", () => {
    expect(splitAnswer("Alpha [1]. Beta [2, 3] end")).toEqual([
      { kind: "text", text: "Alpha " },
      { kind: "cite", raw: "[1]", numbers: [1] },
      { kind: "text", text: ". Beta " },
      { kind: "cite", raw: "[2, 3]", numbers: [2, 3] },
      { kind: "text", text: " end" },
    ]);
  });

  it("leaves text without markers alone", () => {
    expect(splitAnswer("No sources here.")).toEqual([{ kind: "text", text: "No sources here." }]);
  });
});

describe("AnswerView", () => {
  it("renders each [n] marker as a button for citation n", () => {
    render(<AnswerView response={queryResponse()} question="Why did it crash?" />);
    const markers = screen.getAllByTestId("citation-marker");
    expect(markers.map((m) => m.dataset.citation)).toEqual(["1", "2"]);
    expect(screen.getByRole("button", { name: "Source 1: 20080111X00040.pdf, page 1" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Source 2: Weather notes, pages 3–4" })).toBeInTheDocument();
    // the text around the markers is kept, the raw "[1]" is not
    const text = screen.getByTestId("answer-text");
    expect(text).toHaveTextContent("The pilot failed to maintain directional control during the landing roll");
    expect(text.textContent).not.toContain("[1]");
  });

  it("keeps a marker with no matching citation as plain text", () => {
    render(<AnswerView response={queryResponse({ answer: "Unknown source [9]. Known [1]." })} />);
    expect(screen.getAllByTestId("citation-marker")).toHaveLength(1);
    expect(screen.getByTestId("answer-text")).toHaveTextContent("Unknown source [9].");
  });

  it("opens the cited passage, document and pages of the clicked marker", async () => {
    const user = userEvent.setup();
    render(<AnswerView response={queryResponse()} />);
    expect(screen.queryByTestId("citation-panel")).not.toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: /^Source 2:/ }));
    const panel = screen.getByTestId("citation-panel");
    expect(panel).toHaveAttribute("data-citation", "2");
    expect(within(panel).getByTestId("citation-document")).toHaveTextContent("Weather notes");
    expect(within(panel).getByTestId("citation-pages")).toHaveTextContent("Pages 3–4");
    expect(within(panel).getByTestId("citation-snippet")).toHaveTextContent("90 degree crosswind at 8 knots");
    expect(within(panel).getByText("weather/metar-notes.md")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: /^Source 2:/ })).toHaveAttribute("aria-expanded", "true");
    // focus moves into the panel for keyboard and screen-reader users
    expect(panel).toContainElement(document.activeElement as HTMLElement);

    // switching to another citation replaces the panel's content
    await user.click(screen.getByRole("button", { name: /^Source 1:/ }));
    const first = screen.getByTestId("citation-panel");
    expect(first).toHaveAttribute("data-citation", "1");
    expect(within(first).getByTestId("citation-document")).toHaveTextContent("20080111X00040.pdf");
    expect(within(first).getByTestId("citation-pages")).toHaveTextContent("Page 1");
    expect(within(first).getByTestId("citation-snippet")).toHaveTextContent("failed to maintain directional control");
  });

  it("opens a citation from the sources list and closes with Escape, returning focus", async () => {
    const user = userEvent.setup();
    render(<AnswerView response={queryResponse()} />);
    const sources = screen.getAllByTestId("citation-source");
    expect(sources).toHaveLength(2);
    await user.click(sources[1]);
    expect(screen.getByTestId("citation-panel")).toHaveAttribute("data-citation", "2");
    await user.keyboard("{Escape}");
    expect(screen.queryByTestId("citation-panel")).not.toBeInTheDocument();
    expect(sources[1]).toHaveFocus();
  });

  it("closes with the close button and toggles when the same marker is clicked again", async () => {
    const user = userEvent.setup();
    render(<AnswerView response={queryResponse()} />);
    const marker = screen.getByRole("button", { name: /^Source 1:/ });
    await user.click(marker);
    await user.click(screen.getByRole("button", { name: "Close source" }));
    expect(screen.queryByTestId("citation-panel")).not.toBeInTheDocument();
    await user.click(marker);
    expect(screen.getByTestId("citation-panel")).toBeInTheDocument();
    await user.click(marker);
    expect(screen.queryByTestId("citation-panel")).not.toBeInTheDocument();
  });

  it("is keyboard usable: Tab to a marker and press Enter", async () => {
    const user = userEvent.setup();
    render(<AnswerView response={queryResponse()} />);
    await user.tab();
    expect(screen.getByRole("button", { name: /^Source 1:/ })).toHaveFocus();
    await user.keyboard("{Enter}");
    expect(screen.getByTestId("citation-panel")).toHaveAttribute("data-citation", "1");
  });

  it("shows the cached badge and the latency", () => {
    render(<AnswerView response={queryResponse({ cached: true, latency_ms: { total: 12.4 } })} />);
    expect(screen.getByTestId("cached-badge")).toHaveTextContent("Cached");
    expect(screen.getByTestId("latency")).toHaveTextContent("12 ms");
  });

  it("shows no cached badge for a fresh answer, and latency in seconds", () => {
    render(<AnswerView response={queryResponse()} />);
    expect(screen.queryByTestId("cached-badge")).not.toBeInTheDocument();
    expect(screen.getByTestId("latency")).toHaveTextContent("1.23 s");
    expect(screen.getByText("gpt-4o-mini")).toBeInTheDocument();
  });

  it("says when the answer is extractive", () => {
    render(<AnswerView response={queryResponse({ answer_type: "extractive", model: null })} />);
    expect(screen.getByTestId("extractive-badge")).toBeInTheDocument();
    expect(screen.getByText(/No language model is configured/)).toBeInTheDocument();
  });

  it("says when nothing was cited", () => {
    render(<AnswerView response={queryResponse({ answer: "I could not find that.", citations: [] })} />);
    expect(screen.getByTestId("no-citations")).toBeInTheDocument();
    expect(screen.queryByTestId("citation-marker")).not.toBeInTheDocument();
  });
});
