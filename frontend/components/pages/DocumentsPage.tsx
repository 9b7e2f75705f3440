"use client";

import { useCallback, useState } from "react";
import type { CreateUploadResponse } from "@/lib/api";
import { allows } from "@/lib/roles";
import { useApi, useApp } from "../AppProvider";
import { DocumentList, type PendingUpload } from "../DocumentList";
import { UploadDropzone } from "../UploadDropzone";

export function DocumentsPage() {
  const api = useApi();
  const { user } = useApp();
  const canEdit = allows(user?.role ?? "reader", "editor");
  const [pending, setPending] = useState<PendingUpload[]>([]);
  const [refreshKey, setRefreshKey] = useState(0);

  const onUploaded = useCallback((upload: CreateUploadResponse, file: File) => {
    setPending((prev) => [
      ...prev.filter((p) => p.document_id !== upload.document_id),
      { document_id: upload.document_id, file_name: file.name },
    ]);
    setRefreshKey((n) => n + 1);
  }, []);

  return (
    <div className="page">
      <div className="page__intro">
        <h1 className="page__title">Documents</h1>
        <p className="muted">
          {canEdit
            ? "Upload files, watch them being indexed, and remove the ones you no longer need."
            : "The documents you can read. Editors upload and delete them."}
        </p>
      </div>
      {canEdit ? <UploadDropzone api={api} onUploaded={onUploaded} /> : null}
      <DocumentList api={api} pendingUploads={pending} refreshKey={refreshKey} canDelete={canEdit} />
    </div>
  );
}
