import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { DocumentList } from "@/components/DocumentList";
import { ApiError, type DocumentRecord, type ListDocumentsResponse } from "@/lib/api";
import { describeDocument } from "@/lib/pipeline";
import { documentRecord } from "./fixtures";

function page(...documents: DocumentRecord[]): ListDocumentsResponse {
  return { documents, next_cursor: null };
}

function rowFor(name: string): HTMLElement {
  const row = screen.getAllByTestId("document-row").find((el) => el.dataset.fileName === name);
  if (!row) throw new Error(`no row for ${name}`);
  return row;
}

describe("describeDocument", () => {
  it("puts a processing document at its pipeline step", () => {
    expect(describeDocument(documentRecord({ step: "register" }))).toMatchObject({
      tone: "processing",
      stepNumber: 1,
      detail: "Step 1 of 5: Registering",
    });
    expect(describeDocument(documentRecord({ step: "embed_and_index" }))).toMatchObject({
      stepNumber: 4,
      detail: "Step 4 of 5: Embedding and indexing",
      percent: 70,
    });
    expect(describeDocument(documentRecord({ step: null }))).toMatchObject({ label: "Queued", stepNumber: 0 });
  });

  it("reports a ready document's counts and a failed document's reason in words", () => {
    expect(
      describeDocument(documentRecord({ status: "ready", step: "finalize", chunk_count: 1, page_count: 4 })),
    ).toMatchObject({ tone: "ready", label: "Ready", percent: 100, detail: "Indexed: 1 chunk, 4 pages" });
    expect(
      describeDocument(
        documentRecord({ status: "failed", step: "extract", error: "The PDF is password-protected; upload an unlocked copy." }),
      ),
    ).toMatchObject({
      tone: "failed",
      detail: "Failed while extracting text: The PDF is password-protected; upload an unlocked copy.",
    });
    expect(describeDocument(documentRecord({ status: "failed", step: null, error: null })).detail).toBe(
      "Failed: The reason was not recorded. Try uploading the file again.",
    );
  });
});

describe("DocumentList", () => {
  it("shows each document's status, pipeline progress, chunk count and failure reason", async () => {
    const api = {
      listDocuments: vi.fn().mockResolvedValue(
        page(
          documentRecord({ id: "d1", file_name: "manual.pdf", status: "processing", step: "chunk" }),
          documentRecord({ id: "d2", file_name: "faq.md", status: "ready", step: "finalize", chunk_count: 12, page_count: null, file_type: "markdown" }),
          documentRecord({
            id: "d3",
            file_name: "scan.pdf",
            status: "failed",
            step: "extract",
            error: "No text could be extracted: the PDF contains only images. Upload a text PDF or run OCR first.",
          }),
        ),
      ),
      deleteDocument: vi.fn(),
    };
    render(<DocumentList api={api} pollIntervalMs={60_000} />);

    const processing = await waitFor(() => rowFor("manual.pdf"));
    expect(within(processing).getByTestId("document-status")).toHaveTextContent("Processing");
    const bar = within(processing).getByRole("progressbar", { name: "Indexing progress for manual.pdf" });
    expect(bar).toHaveAttribute("aria-valuenow", "3");
    expect(bar).toHaveAttribute("aria-valuemax", "5");
    expect(within(processing).getByTestId("document-detail")).toHaveTextContent("Step 3 of 5: Splitting into passages");

    const ready = rowFor("faq.md");
    expect(within(ready).getByTestId("document-status")).toHaveTextContent("Ready");
    expect(within(ready).getByTestId("document-detail")).toHaveTextContent("Indexed: 12 chunks");
    expect(within(ready).queryByRole("progressbar")).not.toBeInTheDocument();

    const failed = rowFor("scan.pdf");
    expect(failed).toHaveAttribute("data-status", "failed");
    expect(within(failed).getByTestId("document-status")).toHaveTextContent("Failed");
    expect(within(failed).getByTestId("document-detail")).toHaveTextContent(
      "Failed while extracting text: No text could be extracted: the PDF contains only images.",
    );
  });

  it("polls while a document is processing and stops once it is ready", async () => {
    const listDocuments = vi
      .fn()
      .mockResolvedValueOnce(page(documentRecord({ step: "register" })))
      .mockResolvedValueOnce(page(documentRecord({ step: "embed_and_index" })))
      .mockResolvedValue(page(documentRecord({ status: "ready", step: "finalize", chunk_count: 5, page_count: 4 })));
    render(<DocumentList api={{ listDocuments, deleteDocument: vi.fn() }} pollIntervalMs={10} />);

    await waitFor(() => expect(within(rowFor("report.pdf")).getByTestId("document-status")).toHaveTextContent("Ready"));
    expect(within(rowFor("report.pdf")).getByTestId("document-detail")).toHaveTextContent("Indexed: 5 chunks, 4 pages");
    // the change is announced to screen readers
    expect(screen.getByTestId("documents-announcer")).toHaveTextContent("report.pdf is ready.");
    const calls = listDocuments.mock.calls.length;
    expect(calls).toBe(3);
    await new Promise((r) => setTimeout(r, 80));
    expect(listDocuments.mock.calls.length).toBe(calls);
  });

  it("deletes a document after confirmation and removes it once it is gone", async () => {
    const user = userEvent.setup();
    const doc = documentRecord({ id: "d9", file_name: "old.pdf", status: "ready", step: "finalize", chunk_count: 3 });
    const listDocuments = vi.fn().mockResolvedValueOnce(page(doc)).mockResolvedValueOnce(page(doc)).mockResolvedValue(page());
    const deleteDocument = vi.fn().mockResolvedValue({ document_id: "d9", status: "deleting" });
    render(<DocumentList api={{ listDocuments, deleteDocument }} pollIntervalMs={10} />);

    await user.click(await screen.findByRole("button", { name: "Delete old.pdf" }));
    // nothing is deleted until the user confirms
    expect(deleteDocument).not.toHaveBeenCalled();
    const confirm = screen.getByRole("group", { name: "Confirm deleting old.pdf" });
    await user.click(within(confirm).getByRole("button", { name: "Cancel" }));
    expect(screen.queryByRole("group", { name: "Confirm deleting old.pdf" })).not.toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: "Delete old.pdf" }));
    await user.click(screen.getByTestId("confirm-delete"));
    expect(deleteDocument).toHaveBeenCalledWith("d9");
    await waitFor(() => expect(screen.queryAllByTestId("document-row")).toHaveLength(0));
    expect(screen.getByTestId("documents-empty")).toBeInTheDocument();
  });

  it("shows a failed delete in words", async () => {
    const user = userEvent.setup();
    const doc = documentRecord({ id: "d9", file_name: "old.pdf", status: "ready", step: "finalize" });
    const deleteDocument = vi.fn().mockRejectedValue(new ApiError(404, "not_found", "Document d9 was not found.", "path.document_id"));
    render(<DocumentList api={{ listDocuments: vi.fn().mockResolvedValue(page(doc)), deleteDocument }} pollIntervalMs={60_000} />);
    await user.click(await screen.findByRole("button", { name: "Delete old.pdf" }));
    await user.click(screen.getByTestId("confirm-delete"));
    expect(await screen.findByRole("alert")).toHaveTextContent("Could not delete: Document d9 was not found.");
  });

  it("has empty, loading and error states", async () => {
    let resolve!: (value: ListDocumentsResponse) => void;
    const listDocuments = vi.fn().mockReturnValueOnce(new Promise((r) => (resolve = r)));
    const { unmount } = render(<DocumentList api={{ listDocuments, deleteDocument: vi.fn() }} />);
    expect(screen.getByTestId("documents-loading")).toHaveTextContent("Loading documents…");
    resolve(page());
    expect(await screen.findByTestId("documents-empty")).toHaveTextContent("No documents yet");
    unmount();

    const failing = vi.fn().mockRejectedValue(new ApiError(0, "network", "Could not reach the Ragline API."));
    render(<DocumentList api={{ listDocuments: failing, deleteDocument: vi.fn() }} pollIntervalMs={60_000} />);
    expect(await screen.findByTestId("documents-error")).toHaveTextContent("Could not load your documents: Could not reach the Ragline API.");
  });

  it("shows a just-uploaded document before ingestion registers it", async () => {
    const listDocuments = vi
      .fn()
      .mockResolvedValueOnce(page())
      .mockResolvedValue(page(documentRecord({ id: "new-1", file_name: "fresh.pdf", step: "extract" })));
    render(
      <DocumentList
        api={{ listDocuments, deleteDocument: vi.fn() }}
        pendingUploads={[{ document_id: "new-1", file_name: "fresh.pdf" }]}
        pollIntervalMs={10}
      />,
    );
    expect(await screen.findByText("Waiting for indexing to start…")).toBeInTheDocument();
    await waitFor(() => expect(rowFor("fresh.pdf")).toHaveAttribute("data-status", "processing"));
    expect(within(rowFor("fresh.pdf")).getByTestId("document-detail")).toHaveTextContent("Step 2 of 5: Extracting text");
  });
});
