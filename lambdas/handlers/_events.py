"""Event models for the state machine Tasks (Powertools parser models at the edges)."""

from __future__ import annotations

from aws_lambda_powertools.utilities.parser.models import S3EventNotificationEventBridgeDetailModel
from pydantic import BaseModel

from ragline.pipeline import ChunkedRef, DocumentRef, ExtractedRef, FailedState


class S3DetailEvent(BaseModel):
    """Input of register and delete_document: the S3 event's detail, as EventBridge sends it."""

    detail: S3EventNotificationEventBridgeDetailModel
    execution_id: str


class DocumentEvent(BaseModel):
    document: DocumentRef
    execution_id: str


class ChunkEvent(DocumentEvent):
    extracted: ExtractedRef


class BatchEvent(DocumentEvent):
    batch_key: str


class FinalizeEvent(DocumentEvent):
    chunked: ChunkedRef


class MarkFailedEvent(BaseModel):
    """Input of mark_failed: the execution's state when a Catch fired, with the failed step."""

    state: FailedState
    execution_id: str
