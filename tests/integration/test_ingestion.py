"""Issue #2 end to end: uploads through the local S3 start the real ingest state machine (the
same ASL, handlers and event pattern as on AWS), and each document ends ready or failed."""

from __future__ import annotations

import io
import json
import os
import time
import uuid

import pytest
from pypdf import PdfWriter

from ragline.models import document_id_for
from tests.support.settings import settings_env

pytestmark = pytest.mark.slow


def unique_tenant(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def upload_bytes(stack, tenant: str, name: str, data: bytes, content_type: str = "application/octet-stream") -> str:
    key = f"{tenant}/{name}"
    stack.aws("s3").put_object(Bucket=stack.endpoints["documents_bucket"], Key=key, Body=data, ContentType=content_type)
    return document_id_for(tenant, key)


def executions(stack, machine: str = "ingest") -> list[dict]:
    arn = stack.endpoints["state_machines"][machine]
    return stack.aws("stepfunctions").list_executions(stateMachineArn=arn)["executions"]


def wait_idle(stack, timeout_s: float = 120) -> None:
    """Until no execution of either state machine is running."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not any(e["status"] == "RUNNING" for m in ("ingest", "delete") for e in executions(stack, m)):
            return
        time.sleep(0.3)
    raise AssertionError("executions still running")


def wait_for(stack, tenant: str, document_ids, statuses=("ready", "failed"), timeout_s: float = 300):
    client = stack.client(tenant)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        records = {d: stack.catalog.find_by_key(tenant, key) for d, key in document_ids.items()}
        if all(r is not None and r.status.value in statuses for r in records.values()):
            return records
        time.sleep(0.3)
    raise AssertionError(f"not {statuses} in time: {[(k, r and r.status, r and r.step) for k, r in records.items()]}")


def no_text_layer_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cf"
                    "c0f01f0005000201a3d8e5a20000000049454e44ae426082")


def test_ntsb_corpus_indexes_and_a_distinctive_phrase_finds_its_report(local_stack, corpora):
    tenant = unique_tenant("ntsb")
    client = local_stack.client(tenant)
    files = sorted((corpora / "ntsb").glob("*.pdf"))
    assert len(files) == 20
    keys = {}
    for path in files:
        document_id, key = client.upload(path)
        keys[document_id] = key
    records = wait_for(local_stack, tenant, keys, timeout_s=600)
    for record in records.values():
        assert record.status.value == "ready", (record.file_name, record.error)
        assert record.chunk_count and record.chunk_count > 0
        assert record.page_count and record.page_count >= 1
        assert local_stack.index.count(tenant, record.id) == record.chunk_count

    # A phrase from one report's narrative finds that report first.
    target = files[7]
    from ragline.extract import extract

    text = " ".join(b.text for b in extract(target.read_bytes(), target.name).blocks if b.kind == "text")
    words = [w for w in text.split() if len(w) > 3]
    phrase = " ".join(words[len(words) // 2 : len(words) // 2 + 8])
    hits = client.search(phrase, mode="hybrid", top_k=3)["hits"]
    assert hits and hits[0]["source"] == target.name, (phrase, [h["source"] for h in hits])


def test_broken_documents_fail_alone_with_specific_reasons(local_stack, corpora):
    tenant = unique_tenant("broken")
    good = (corpora / "ntsb" / "20080111X00040.pdf").read_bytes()
    uploads = {
        "good.pdf": (good, "application/pdf"),
        "corrupt.pdf": (good[:1500], "application/pdf"),
        "empty.txt": (b"", "text/plain"),
        "picture.png": (PNG, "image/png"),
        "scanned.pdf": (no_text_layer_pdf(), "application/pdf"),
    }
    ids = {}
    for name, (data, content_type) in uploads.items():
        ids[upload_bytes(local_stack, tenant, name, data, content_type)] = f"{tenant}/{name}"
    records = {r.file_name: r for r in wait_for(local_stack, tenant, ids).values()}

    assert records["good.pdf"].status.value == "ready"
    for name in ("corrupt.pdf", "empty.txt", "picture.png", "scanned.pdf"):
        record = records[name]
        assert record.status.value == "failed", name
        assert name in record.error, f"the reason names the file: {record.error}"
        assert record.step == "extract"
    assert "empty" in records["empty.txt"].error.lower()
    assert "text layer" in records["scanned.pdf"].error.lower()
    assert "supported" in records["picture.png"].error.lower()
    assert local_stack.catalog.list_documents(tenant, status="processing")[0] == []

    # Each failure also lands in the dead-letter queue with its event and error.
    sqs = local_stack.aws("sqs")
    bodies = []
    for _ in range(10):
        messages = sqs.receive_message(QueueUrl=local_stack.endpoints["dead_letter_queue_url"], MaxNumberOfMessages=10)
        bodies += [json.loads(m["Body"]) for m in messages.get("Messages", [])]
        if not messages.get("Messages"):
            break
    failed_keys = {b["event"]["object"]["key"] for b in bodies}
    assert {f"{tenant}/{n}" for n in ("corrupt.pdf", "empty.txt", "picture.png", "scanned.pdf")} <= failed_keys


def test_replayed_event_gives_the_same_points(local_stack, corpora):
    tenant = unique_tenant("replay")
    client = local_stack.client(tenant)
    document_id, key = client.upload(corpora / "ntsb" / "20080102X00002.pdf")
    wait_for(local_stack, tenant, {document_id: key})
    wait_idle(local_stack)
    ids_before = sorted(local_stack.index.point_ids(tenant, document_id))

    # Deliver the very same S3 event again, as EventBridge may.
    sfn = local_stack.aws("stepfunctions")
    inputs = [sfn.describe_execution(executionArn=e["executionArn"])["input"] for e in executions(local_stack)]
    event = next(i for i in inputs if json.loads(i)["detail"]["object"]["key"] == key)
    replay = sfn.start_execution(stateMachineArn=local_stack.endpoints["state_machines"]["ingest"], name=f"replay-{uuid.uuid4()}", input=event)
    wait_idle(local_stack)
    assert sfn.describe_execution(executionArn=replay["executionArn"])["status"] == "SUCCEEDED"
    history = sfn.get_execution_history(executionArn=replay["executionArn"])["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
    assert "NothingToDo" in entered and "EmbedAndIndex" not in entered, "a repeated event costs no embeddings"
    assert sorted(local_stack.index.point_ids(tenant, document_id)) == ids_before
    assert local_stack.catalog.get(tenant, document_id).status.value == "ready"


def test_changed_reupload_replaces_chunks_and_delete_removes_everything(local_stack):
    tenant = unique_tenant("versions")
    long_text = "\n\n".join(f"Section {i}. The turbine inspection found wear on blade {i}. " * 12 for i in range(30))
    document_id = upload_bytes(local_stack, tenant, "notes.txt", long_text.encode(), "text/plain")
    key = f"{tenant}/notes.txt"
    first = wait_for(local_stack, tenant, {document_id: key})[document_id]
    assert first.status.value == "ready" and first.chunk_count > 3

    short_text = "Rewritten. The hydraulic pump failed during the climb. Crew landed safely."
    upload_bytes(local_stack, tenant, "notes.txt", short_text.encode(), "text/plain")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        record = local_stack.catalog.get(tenant, document_id)
        if record.status.value == "ready" and record.chunk_count != first.chunk_count:
            break
        time.sleep(0.3)
    wait_idle(local_stack)
    record = local_stack.catalog.get(tenant, document_id)
    assert record.chunk_count == 1
    assert local_stack.index.count(tenant, document_id) == 1, "no stale chunks of the first version"
    hits = local_stack.client(tenant).search("turbine blade wear", mode="sparse")["hits"]
    assert hits == [] or all("turbine" not in h["snippet"] for h in hits)

    local_stack.aws("s3").delete_object(Bucket=local_stack.endpoints["documents_bucket"], Key=key)
    wait_for(local_stack, tenant, {document_id: key}, statuses=("deleted",))
    wait_idle(local_stack)
    assert local_stack.index.count(tenant, document_id) == 0
    assert local_stack.catalog.get(tenant, document_id).status.value == "deleted"


def test_embedding_429_is_retried_by_the_state_machine_and_401_fails_with_the_reason(local_stack):
    from tests.support.openai_server import OpenAICompatibleServer

    tenant = unique_tenant("provider")
    # Its own collection: the shared one was built by the hash embedder, and a collection
    # refuses vectors of another embedder (issue 8).
    with OpenAICompatibleServer() as server, settings_env(
        RAGLINE_COLLECTION=f"chunks_{tenant}",
        RAGLINE_EMBEDDER="openai", RAGLINE_OPENAI_BASE_URL=server.base_url, RAGLINE_OPENAI_API_KEY="test-key",
        RAGLINE_EMBEDDING_MODEL="text-embedding-3-small", RAGLINE_OPENAI_MAX_RETRIES="0",
    ):
        server.fail_next(429, times=2)
        document_id = upload_bytes(local_stack, tenant, "throttled.md", b"# Engine\n\nThe left engine lost oil pressure.", "text/markdown")
        record = wait_for(local_stack, tenant, {document_id: f"{tenant}/throttled.md"})[document_id]
        assert record.status.value == "ready", record.error
        # SDK retries are off, so each request is one Lambda attempt: two 429s, then success.
        assert len([r for r in server.requests if r.path.endswith("/embeddings")]) == 3

        server.fail_next(401, times=10)
        document_id = upload_bytes(local_stack, tenant, "refused.md", b"# Fuel\n\nFuel exhaustion.", "text/markdown")
        record = wait_for(local_stack, tenant, {document_id: f"{tenant}/refused.md"})[document_id]
        assert record.status.value == "failed"
        assert record.step == "embed_and_index"
        assert "401" in record.error or "API key" in record.error


def test_nih_trials_corpus_ingests(local_stack, corpora):
    """20 long protocols: all index, except the one that is a scanned image, which fails saying so."""
    tenant = unique_tenant("nih")
    client = local_stack.client(tenant)
    keys = dict(client.upload(path) for path in sorted((corpora / "nih-trials").glob("*.pdf")))
    records = {r.file_name: r for r in wait_for(local_stack, tenant, keys, timeout_s=600).values()}
    assert len(records) == 20
    scanned = records.pop("NCT06155240_Prot_SAP_000.pdf")
    assert scanned.status.value == "failed" and "text layer" in scanned.error
    for name, record in records.items():
        assert record.status.value == "ready", (name, record.error)
        assert record.chunk_count >= record.page_count, name
    hits = client.search("statistical analysis plan sample size", mode="hybrid", top_k=5)["hits"]
    assert hits and all(h["source"].startswith("NCT") for h in hits)


def test_url_encoded_keys_in_events_resolve_to_the_stored_object(local_stack):
    """S3 notifications URL-encode keys ("a b+c" arrives as "a+b%2Bc"); the stored object decides
    which key is meant, so names with spaces, pluses and Vietnamese letters all index."""
    from urllib.parse import quote_plus

    tenant = unique_tenant("keys")
    sfn = local_stack.aws("stepfunctions")
    names = ["red flower.md", "biên bản họp+ghi chú.md"]
    for name in names:
        key = f"{tenant}/{name}"
        document_id = upload_bytes(local_stack, tenant, name, "# Họp\n\nĐộng cơ trái mất áp suất dầu.".encode())
        wait_for(local_stack, tenant, {document_id: key})
        wait_idle(local_stack)
        # The same object announced the way AWS encodes it.
        inputs = [json.loads(sfn.describe_execution(executionArn=e["executionArn"])["input"]) for e in executions(local_stack)]
        event = next(i for i in inputs if i["detail"]["object"]["key"] == key)
        event["detail"]["object"]["key"] = f"{tenant}/{quote_plus(name)}"
        run = sfn.start_execution(stateMachineArn=local_stack.endpoints["state_machines"]["ingest"],
                                  name=f"encoded-{uuid.uuid4()}", input=json.dumps(event))
        wait_idle(local_stack)
        assert sfn.describe_execution(executionArn=run["executionArn"])["status"] == "SUCCEEDED", name
    documents = local_stack.catalog.list_documents(tenant)[0]
    assert sorted(d.key for d in documents) == sorted(f"{tenant}/{n}" for n in names), "one row each, real keys"
    assert all(d.status.value == "ready" for d in documents)


def test_vietnamese_documents_index_and_answer_in_vietnamese(local_stack):
    """Nothing assumes English: a Vietnamese Word file and an English one side by side; a
    Vietnamese question (diacritics and all) finds and cites the Vietnamese document."""
    import docx

    tenant = unique_tenant("vi")
    document = docx.Document()
    document.add_heading("Báo cáo sự cố hàng không", level=1)
    document.add_paragraph("Máy bay hạ cánh tại Đà Nẵng lúc 14 giờ. Phi công báo cáo động cơ trái mất áp suất dầu "
                           "và đã tắt động cơ trước khi hạ cánh an toàn.")
    document.add_heading("Nguyên nhân", level=2)
    document.add_paragraph("Nguyên nhân có thể xảy ra là rò rỉ dầu ở đường ống bôi trơn của động cơ trái.")
    buffer = io.BytesIO()
    document.save(buffer)
    ids = {
        upload_bytes(local_stack, tenant, "báo cáo sự cố.docx", buffer.getvalue()): f"{tenant}/báo cáo sự cố.docx",
        upload_bytes(local_stack, tenant, "report.md", b"# Incident\n\nThe right tire burst on landing in Denver."):
            f"{tenant}/report.md",
    }
    records = wait_for(local_stack, tenant, ids)
    assert all(r.status.value == "ready" for r in records.values()), [r.error for r in records.values()]

    answer = local_stack.client(tenant).ask("Nguyên nhân động cơ trái mất áp suất dầu là gì?", mode="hybrid")
    assert answer["citations"][0]["source"] == "báo cáo sự cố.docx"
    assert "rò rỉ dầu" in answer["answer"]
    assert answer["citations"][0]["heading"] in {"Nguyên nhân", "Báo cáo sự cố hàng không"}
