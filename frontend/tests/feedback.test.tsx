import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { FeedbackControls } from "@/components/FeedbackControls";
import { ApiError } from "@/lib/api";

describe("FeedbackControls", () => {
  it("sends a thumbs-up with a comment and confirms", async () => {
    const user = userEvent.setup();
    const onSend = vi.fn().mockResolvedValue({ feedback_id: "f-1" });
    render(<FeedbackControls queryId="q-42" onSend={onSend} />);

    // the comment box appears once a rating is chosen
    expect(screen.queryByLabelText("Comment (optional)")).not.toBeInTheDocument();
    const up = screen.getByRole("button", { name: "Helpful" });
    await user.click(up);
    expect(up).toHaveAttribute("aria-pressed", "true");
    expect(screen.getByRole("button", { name: "Not helpful" })).toHaveAttribute("aria-pressed", "false");

    await user.type(screen.getByLabelText("Comment (optional)"), "  Cited the right page.  ");
    await user.click(screen.getByRole("button", { name: "Send feedback" }));

    expect(onSend).toHaveBeenCalledWith({ query_id: "q-42", rating: "up", comment: "Cited the right page." });
    expect(await screen.findByTestId("feedback-status")).toHaveTextContent("Thanks — your feedback was recorded.");
  });

  it("sends a thumbs-down without a comment field when none was written", async () => {
    const user = userEvent.setup();
    const onSend = vi.fn().mockResolvedValue({ feedback_id: "f-2" });
    render(<FeedbackControls queryId="q-7" onSend={onSend} />);
    await user.click(screen.getByRole("button", { name: "Not helpful" }));
    await user.click(screen.getByRole("button", { name: "Send feedback" }));
    expect(onSend).toHaveBeenCalledWith({ query_id: "q-7", rating: "down" });
  });

  it("shows the server's reason when sending fails and lets the user retry", async () => {
    const user = userEvent.setup();
    const onSend = vi
      .fn()
      .mockRejectedValueOnce(new ApiError(404, "not_found", "Query q-9 is unknown for this tenant.", "body.query_id"))
      .mockResolvedValueOnce({ feedback_id: "f-3" });
    render(<FeedbackControls queryId="q-9" onSend={onSend} />);
    await user.click(screen.getByRole("button", { name: "Helpful" }));
    await user.click(screen.getByRole("button", { name: "Send feedback" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Query q-9 is unknown for this tenant.");
    await user.click(screen.getByRole("button", { name: "Send feedback" }));
    expect(await screen.findByTestId("feedback-status")).toBeInTheDocument();
    expect(onSend).toHaveBeenCalledTimes(2);
  });
});
