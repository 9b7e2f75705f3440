"""Ragline's CDK app (importable as ``ragline_cdk``), one module per concern:

config (per-environment settings from cdk.json), app_builder (the app: one stack per
environment + the cdk-nag gate), stack (composition and outputs), storage (KMS key, buckets,
log groups), data (VPC, RDS SQL Server, ElastiCache Serverless, provider secrets), functions
(every Lambda rendered from ragline.wiring, least privilege per function), bundling (the
dependencies layer built with pip, no Docker), ingestion (dead-letter queue, state machines,
EventBridge rules), api (REST API, Cognito authorizer, throttling, usage plan, WAF), auth
(Cognito user pool, hosted domain, web client), frontend_hosting (S3 + CloudFront, config.json),
migrations (catalog migrations on deploy), monitoring (dashboard, alarms, SNS), security
(cdk-nag gate and acknowledgements).
"""
