"""The local runtime: Ragline whole on one machine, without AWS and without Docker.

A moto server plays S3, EventBridge, SQS, Lambda and Step Functions; the very same ASL files,
handlers, event patterns and function settings as the CDK app (ragline.wiring) are created in
it; Lambda tasks run in-process; a small gateway serves the REST API, the web app and a
development sign-in.
"""
