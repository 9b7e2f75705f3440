"""How functions, state machines and events connect: the one definition that both the CDK app
(`cdk/`) and the local runtime (`local/`) render. Change wiring here, nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragline.access import routes as _route_rules

REPO_ROOT = Path(__file__).resolve().parents[2]
# A source checkout keeps the ASL files at the top; an installed wheel carries them inside the
# package (pyproject.toml maps statemachines/ to ragline.statemachines).
_PACKAGED_STATEMACHINES = Path(__file__).resolve().parent / "statemachines"
STATEMACHINES_DIR = _PACKAGED_STATEMACHINES if _PACKAGED_STATEMACHINES.is_dir() else REPO_ROOT / "statemachines"


@dataclass(frozen=True)
class FunctionSpec:
    """A Lambda function: its handler and settings, and what it touches (for least privilege)."""

    name: str
    handler: str  # "module.function", relative to the lambdas/ asset root
    description: str
    memory_mb: int = 512
    timeout_s: int = 60
    # Resources the function uses; CDK grants exactly these, per function.
    uses: frozenset[str] = field(default_factory=frozenset)

    @property
    def asl_variable(self) -> str:
        """The `${...}` substitution that stands for this function's ARN in the ASL files."""
        return "".join(part.title() for part in self.name.split("_")) + "FunctionArn"


# Resource names used in `uses`.
DOCUMENTS_READ = "documents:read"
DOCUMENTS_WRITE = "documents:write"  # presigned uploads, deletes
DOCUMENTS_LIST = "documents:list"  # list the bucket (the reconciler compares it with the catalog)
ARTIFACTS_READ = "artifacts:read"
ARTIFACTS_WRITE = "artifacts:write"
CATALOG = "catalog"
VECTOR_INDEX = "vector-index"
EMBEDDINGS = "embeddings"  # OpenAI key
LLM = "llm"
CACHE = "cache"
DEAD_LETTER_QUEUE = "dead-letter-queue"
INGEST_START = "ingest:start"  # start ingest executions and look at their status (reconciler)

FUNCTIONS: dict[str, FunctionSpec] = {
    spec.name: spec
    for spec in (
        FunctionSpec(
            "register",
            "handlers.register.handler",
            "Record an uploaded object version in the catalog; detect unchanged re-uploads",
            memory_mb=256,
            uses=frozenset({DOCUMENTS_READ, CATALOG}),
        ),
        FunctionSpec(
            "extract",
            "handlers.extract.handler",
            "Extract text with page and heading positions from an uploaded document",
            memory_mb=1536,
            timeout_s=300,
            uses=frozenset({DOCUMENTS_READ, ARTIFACTS_WRITE, CATALOG}),
        ),
        FunctionSpec(
            "chunk",
            "handlers.chunk.handler",
            "Split extracted text into token-bounded, overlapping chunks in JSONL batches",
            memory_mb=1024,
            timeout_s=120,
            uses=frozenset({ARTIFACTS_READ, ARTIFACTS_WRITE, CATALOG}),
        ),
        FunctionSpec(
            "embed_and_index",
            "handlers.embed_and_index.handler",
            "Embed one batch of chunks (dense + sparse) and upsert it into Qdrant",
            memory_mb=1024,
            timeout_s=300,
            # The catalog: it upserts only while its execution owns the document (pipeline).
            uses=frozenset({ARTIFACTS_READ, VECTOR_INDEX, EMBEDDINGS, CATALOG}),
        ),
        FunctionSpec(
            "finalize",
            "handlers.finalize.handler",
            "Drop points of older versions, mark the document ready, bump the tenant generation",
            memory_mb=256,
            uses=frozenset({VECTOR_INDEX, CATALOG, CACHE}),
        ),
        FunctionSpec(
            "mark_failed",
            "handlers.mark_failed.handler",
            "Mark a document failed with a readable reason and remove the points it wrote",
            memory_mb=256,
            uses=frozenset({CATALOG, VECTOR_INDEX}),
        ),
        FunctionSpec(
            "delete_document",
            "handlers.delete_document.handler",
            "Remove a deleted object's points, derived objects and catalog entry",
            memory_mb=256,
            timeout_s=120,
            uses=frozenset({ARTIFACTS_READ, ARTIFACTS_WRITE, VECTOR_INDEX, CATALOG, CACHE}),
        ),
        FunctionSpec(
            "reconcile",
            "handlers.reconcile.handler",
            "Compare bucket, catalog and index per tenant and repair drift (scheduled)",
            memory_mb=512,
            timeout_s=900,
            uses=frozenset({DOCUMENTS_LIST, CATALOG, VECTOR_INDEX, INGEST_START}),
        ),
        FunctionSpec(
            "api",
            "handlers.api.handler",
            "The REST API: query, search, documents, feedback, health",
            memory_mb=1024,
            timeout_s=29,  # API Gateway's integration limit
            uses=frozenset(
                {DOCUMENTS_READ, DOCUMENTS_WRITE, VECTOR_INDEX, CATALOG, CACHE, EMBEDDINGS, LLM}
            ),
        ),
    )
}


@dataclass(frozen=True)
class StateMachineSpec:
    name: str
    definition_file: Path
    detail_type: str  # the S3 EventBridge event that starts it
    functions: tuple[str, ...]
    uses_dead_letter_queue: bool = True

    def definition(self) -> str:
        return self.definition_file.read_text()

    def event_pattern(self, documents_bucket: str) -> dict[str, Any]:
        """The EventBridge pattern of the rule that starts this state machine."""
        return {
            "source": ["aws.s3"],
            "detail-type": [self.detail_type],
            "detail": {"bucket": {"name": [documents_bucket]}},
        }


STATE_MACHINES: dict[str, StateMachineSpec] = {
    "ingest": StateMachineSpec(
        "ingest",
        STATEMACHINES_DIR / "ingest.asl.json",
        "Object Created",
        ("register", "extract", "chunk", "embed_and_index", "finalize", "mark_failed"),
    ),
    "delete": StateMachineSpec(
        "delete",
        STATEMACHINES_DIR / "delete.asl.json",
        "Object Deleted",
        ("delete_document", "mark_failed"),
    ),
}

def deployed_state_machine_name(environment: str, machine: str) -> str:
    """The state machine's name on AWS (CDK names it; the reconciler's grants are built on it)."""
    return f"ragline-{environment}-{machine}"


# The reconciler runs on this EventBridge Scheduler expression on AWS (`ragline reconcile`
# locally); it is Ragline's answer to a knowledge base's "sync".
RECONCILE_SCHEDULE = "rate(1 hour)"

# REST routes reachable without signing in (API Gateway's authorizer guards every other one;
# the local gateway does the same): derived from the route rules, the one definition of roles.
PUBLIC_ROUTES: frozenset[tuple[str, str]] = _route_rules.PUBLIC_ROUTES

# The conversation routes (ragline.api.conversations), all for signed-in readers, and the
# routes that answer as server-sent events with `Accept: text/event-stream` (ragline.api.sse;
# on AWS served by the `api_stream` function with API Gateway's STREAM transfer mode, JSON
# requests to them too; every other route stays on the buffered `api` function). Both are
# read off the route rules, the one definition of routes.
CONVERSATION_ROUTES: tuple[tuple[str, str], ...] = tuple(
    (rule.method, rule.path) for rule in _route_rules.ROUTES if rule.path.startswith("/conversations")
)
STREAMING_ROUTES: tuple[tuple[str, str], ...] = _route_rules.STREAMING_ROUTES

# The ASL variable for the dead-letter queue URL (an SQS sendMessage task after mark_failed).
DEAD_LETTER_QUEUE_VARIABLE = "DeadLetterQueueUrl"


def substitutions(function_arns: dict[str, str], dead_letter_queue_url: str) -> dict[str, str]:
    """DefinitionSubstitutions for every state machine, from function name -> ARN."""
    subs = {FUNCTIONS[name].asl_variable: arn for name, arn in function_arns.items()}
    subs[DEAD_LETTER_QUEUE_VARIABLE] = dead_letter_queue_url
    return subs


def render_definition(spec: StateMachineSpec, subs: dict[str, str]) -> str:
    """The ASL with `${Var}` substituted, as Step Functions does with DefinitionSubstitutions."""
    text = spec.definition()
    for variable, value in subs.items():
        text = text.replace("${" + variable + "}", value)
    return text


# The settings each use needs on AWS, by Settings field: a deployed function refuses to start
# when one is missing or invalid (settings.refuse_to_start_misconfigured). A tuple inside the
# tuple means "one of these". CDK sets exactly these (tests/infra/test_least_privilege.py).
SETTINGS_FOR_USE: dict[str, tuple[str | tuple[str, ...], ...]] = {
    DOCUMENTS_READ: ("documents_bucket",),
    DOCUMENTS_WRITE: ("documents_bucket",),
    DOCUMENTS_LIST: ("documents_bucket",),
    ARTIFACTS_READ: ("artifacts_bucket",),
    ARTIFACTS_WRITE: ("artifacts_bucket",),
    CATALOG: (("catalog_secret_arn", "catalog_url"),),
    VECTOR_INDEX: ("qdrant_url", "qdrant_engine", "qdrant_api_key_secret_arn", "embedding_dimensions"),
    EMBEDDINGS: ("embedder", "embedding_model", "openai_api_key_secret_arn"),
    LLM: ("openai_api_key_secret_arn",),  # no model configured: extractive answers
    CACHE: ("redis_url",),
    DEAD_LETTER_QUEUE: ("dead_letter_queue_url",),
    INGEST_START: ("ingest_state_machine_arn",),
}
# The environment variable naming the FunctionSpec a deployed function runs (set by CDK).
FUNCTION_VARIABLE = "RAGLINE_FUNCTION"

# The function behind wiring.STREAMING_ROUTES on AWS: the same code and uses as `api`, served
# by uvicorn behind the AWS Lambda Web Adapter (response streaming; docs/streaming.md). Its
# handler is the adapter's start-up script. Locally the gateway calls ragline.api.sse itself.
API_STREAM = FunctionSpec(
    "api_stream",
    "run_api_stream.sh",
    "Streamed answers (server-sent events): POST /query, POST /conversations/{id}/messages",
    memory_mb=1024,
    # A stream may take a follow-up rewrite and a whole generated answer, each bounded by the
    # LLM's total timeout (24 s), plus retrieval: 120 s leaves room for both.
    timeout_s=120,
    uses=FUNCTIONS["api"].uses,
)
STREAMING_FUNCTIONS: dict[str, FunctionSpec] = {API_STREAM.name: API_STREAM}


# Functions that run at deploy time rather than in a state machine or behind the API: the CDK
# app wraps them in CloudFormation custom resources. (The local runtime migrates in-process.)
MIGRATE_CATALOG = FunctionSpec(
    "migrate_catalog",
    "handlers.migrate_catalog.handler",
    "Apply the catalog's schema migrations on every deploy (CloudFormation custom resource)",
    memory_mb=512,
    timeout_s=300,
    uses=frozenset({CATALOG}),
)
DEPLOY_FUNCTIONS: dict[str, FunctionSpec] = {MIGRATE_CATALOG.name: MIGRATE_CATALOG}


# Custom metrics the handlers emit (Powertools Metrics: namespace POWERTOOLS_METRICS_NAMESPACE,
# dimension service=POWERTOOLS_SERVICE_NAME) and the stack's dashboard and alarms read.
METRIC_EMBEDDING_TOKENS = "EmbeddingTokens"  # tokens sent to the embeddings provider
METRIC_LLM_PROMPT_TOKENS = "LlmPromptTokens"
METRIC_LLM_COMPLETION_TOKENS = "LlmCompletionTokens"
METRIC_ANSWER_CACHE_HITS = "AnswerCacheHits"
METRIC_ANSWER_CACHE_MISSES = "AnswerCacheMisses"
