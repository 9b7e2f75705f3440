"""The REST API: routes (app.py), tenant from token claims (auth.py), presigned uploads
(documents.py), request/response models (schemas.py). The handler is handlers/api.py."""
