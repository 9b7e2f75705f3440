import { act, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { UploadDropzone, contentTypeFor } from "@/components/UploadDropzone";
import { ApiError, type CreateUploadRequest, type CreateUploadResponse } from "@/lib/api";

/** Stands in for XMLHttpRequest: records each request and lets the test drive its events. */
class FakeXhr {
  static instances: FakeXhr[] = [];
  method = "";
  url = "";
  headers: Record<string, string> = {};
  body: unknown = null;
  status = 0;
  responseText = "";
  upload: { onprogress: ((e: Partial<ProgressEvent>) => void) | null } = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  ontimeout: (() => void) | null = null;
  onabort: (() => void) | null = null;

  constructor() {
    FakeXhr.instances.push(this);
  }
  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(name: string, value: string) {
    this.headers[name] = value;
  }
  send(body: unknown) {
    this.body = body;
  }
  abort() {
    this.onabort?.();
  }
  // test helpers
  progress(loaded: number, total: number) {
    act(() => this.upload.onprogress?.({ loaded, total, lengthComputable: true }));
  }
  respond(status: number, body = "") {
    this.status = status;
    this.responseText = body;
    act(() => this.onload?.());
  }
  fail() {
    act(() => this.onerror?.());
  }
}

function file(name: string, size: number, type = "application/pdf"): File {
  return new File([new Uint8Array(size)], name, { type });
}

function fakeApi(fail: Record<string, ApiError> = {}) {
  let n = 0;
  const createUpload = vi.fn(async (request: CreateUploadRequest): Promise<CreateUploadResponse> => {
    if (fail[request.file_name]) throw fail[request.file_name];
    n += 1;
    return {
      document_id: `doc-${n}`,
      key: `acme/${request.file_name}`,
      upload: {
        url: `https://bucket.s3.amazonaws.com/acme/${request.file_name}?X-Amz-Signature=sig${n}`,
        method: "PUT",
        headers: { "Content-Type": request.content_type ?? "application/octet-stream" },
      },
      expires_in: 900,
    };
  });
  return { createUpload };
}

function itemFor(name: string): HTMLElement {
  const item = screen.getAllByTestId("upload-item").find((el) => el.dataset.fileName === name);
  if (!item) throw new Error(`no upload item for ${name}`);
  return item;
}

const xhrFor = (name: string) => FakeXhr.instances.find((x) => x.url.includes(`/${name}?`));

describe("UploadDropzone", () => {
  beforeEach(() => {
    FakeXhr.instances = [];
    vi.stubGlobal("XMLHttpRequest", FakeXhr);
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("uploads each file to its presigned URL with a progress bar per file", async () => {
    const user = userEvent.setup();
    const api = fakeApi();
    const onUploaded = vi.fn();
    render(<UploadDropzone api={api} onUploaded={onUploaded} />);

    await user.upload(screen.getByLabelText("Choose files"), [file("a.pdf", 1000), file("b.pdf", 4000)]);

    expect(api.createUpload).toHaveBeenCalledWith({ file_name: "a.pdf", content_type: "application/pdf", size_bytes: 1000 });
    expect(api.createUpload).toHaveBeenCalledWith({ file_name: "b.pdf", content_type: "application/pdf", size_bytes: 4000 });
    await waitFor(() => expect(FakeXhr.instances).toHaveLength(2));
    const a = xhrFor("a.pdf")!;
    const b = xhrFor("b.pdf")!;
    expect(a.method).toBe("PUT");
    expect(a.headers).toEqual({ "Content-Type": "application/pdf" });
    expect(a.body).toBeInstanceOf(File);

    const barA = within(itemFor("a.pdf")).getByRole("progressbar", { name: "Upload of a.pdf" });
    const barB = within(itemFor("b.pdf")).getByRole("progressbar", { name: "Upload of b.pdf" });
    expect(barA).toHaveAttribute("aria-valuenow", "0");

    a.progress(250, 1000);
    b.progress(3000, 4000);
    expect(barA).toHaveAttribute("aria-valuenow", "25");
    expect(barB).toHaveAttribute("aria-valuenow", "75");
    expect(within(itemFor("a.pdf")).getByTestId("upload-status")).toHaveTextContent("Uploading… 25%");

    a.progress(1000, 1000);
    a.respond(200);
    await waitFor(() => expect(itemFor("a.pdf")).toHaveAttribute("data-status", "done"));
    expect(barA).toHaveAttribute("aria-valuenow", "100");
    expect(within(itemFor("a.pdf")).getByTestId("upload-status")).toHaveTextContent("Uploaded — indexing has started");
    expect(onUploaded).toHaveBeenCalledWith(expect.objectContaining({ document_id: "doc-1" }), expect.any(File));
    // b is still going
    expect(itemFor("b.pdf")).toHaveAttribute("data-status", "uploading");
  });

  it("shows why each failed file failed, without stopping the others", async () => {
    // (the picker's accept filter is off: dropped files bypass it, so the server has the last word)
    const user = userEvent.setup({ applyAccept: false });
    const api = fakeApi({
      "notes.exe": new ApiError(400, "unsupported_type", "notes.exe: .exe files are not supported. Upload PDF, DOCX, HTML, Markdown, text or CSV.", "body.file_name"),
    });
    render(<UploadDropzone api={api} />);
    await user.upload(screen.getByLabelText("Choose files"), [
      file("denied.pdf", 10),
      file("offline.pdf", 10),
      file("notes.exe", 10, "application/octet-stream"),
      file("fine.pdf", 10),
    ]);

    await waitFor(() => expect(itemFor("notes.exe")).toHaveAttribute("data-status", "failed"));
    expect(within(itemFor("notes.exe")).getByTestId("upload-status")).toHaveTextContent(
      "Failed: notes.exe: .exe files are not supported.",
    );

    await waitFor(() => expect(xhrFor("denied.pdf")).toBeDefined());
    xhrFor("denied.pdf")!.respond(
      403,
      "<?xml version='1.0'?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
    );
    await waitFor(() => expect(itemFor("denied.pdf")).toHaveAttribute("data-status", "failed"));
    expect(within(itemFor("denied.pdf")).getByTestId("upload-status")).toHaveTextContent(
      "Failed: Storage refused the upload (AccessDenied: Request has expired)",
    );

    await waitFor(() => expect(xhrFor("offline.pdf")).toBeDefined());
    xhrFor("offline.pdf")!.fail();
    await waitFor(() => expect(itemFor("offline.pdf")).toHaveAttribute("data-status", "failed"));
    expect(within(itemFor("offline.pdf")).getByTestId("upload-status")).toHaveTextContent("could not reach storage");

    await waitFor(() => expect(xhrFor("fine.pdf")).toBeDefined());
    xhrFor("fine.pdf")!.respond(200);
    await waitFor(() => expect(itemFor("fine.pdf")).toHaveAttribute("data-status", "done"));

    // a failed file can be retried
    await user.click(screen.getByRole("button", { name: "Retry upload of offline.pdf" }));
    await waitFor(() => expect(FakeXhr.instances.filter((x) => x.url.includes("/offline.pdf?"))).toHaveLength(2));
    FakeXhr.instances.filter((x) => x.url.includes("/offline.pdf?"))[1].respond(200);
    await waitFor(() => expect(itemFor("offline.pdf")).toHaveAttribute("data-status", "done"));
  });

  it("uploads at most three files at a time", async () => {
    const user = userEvent.setup();
    const api = fakeApi();
    render(<UploadDropzone api={api} />);
    await user.upload(
      screen.getByLabelText("Choose files"),
      ["1", "2", "3", "4", "5"].map((n) => file(`${n}.pdf`, 10)),
    );
    await waitFor(() => expect(FakeXhr.instances).toHaveLength(3));
    expect(itemFor("4.pdf")).toHaveAttribute("data-status", "queued");
    FakeXhr.instances[0].respond(200);
    await waitFor(() => expect(FakeXhr.instances).toHaveLength(4));
  });

  it("accepts files dropped on the drop zone", async () => {
    const api = fakeApi();
    render(<UploadDropzone api={api} />);
    const zone = screen.getByTestId("dropzone");
    const dropped = [file("dropped.md", 20, "")];
    const { fireEvent } = await import("@testing-library/react");
    fireEvent.dragEnter(zone, { dataTransfer: { files: dropped, types: ["Files"] } });
    expect(zone).toHaveClass("dropzone--active");
    fireEvent.drop(zone, { dataTransfer: { files: dropped, types: ["Files"] } });
    expect(zone).not.toHaveClass("dropzone--active");
    await waitFor(() =>
      expect(api.createUpload).toHaveBeenCalledWith({ file_name: "dropped.md", content_type: "text/markdown", size_bytes: 20 }),
    );
  });

  it("cancels an upload in flight", async () => {
    const user = userEvent.setup();
    render(<UploadDropzone api={fakeApi()} />);
    await user.upload(screen.getByLabelText("Choose files"), [file("big.pdf", 100)]);
    await waitFor(() => expect(FakeXhr.instances).toHaveLength(1));
    await user.click(screen.getByRole("button", { name: "Cancel upload of big.pdf" }));
    await waitFor(() => expect(itemFor("big.pdf")).toHaveAttribute("data-status", "cancelled"));
  });

  it("guesses a content type from the extension when the browser gives none", () => {
    expect(contentTypeFor(new File(["x"], "a.csv"))).toBe("text/csv");
    expect(contentTypeFor(new File(["x"], "b.DOCX"))).toBe(
      "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    );
    expect(contentTypeFor(new File(["x"], "c.bin"))).toBe("application/octet-stream");
  });
});
