"""Who may do what inside a tenant: roles (``roles``), the per-route rules (``routes``),
collections (``collection``), grants and the audit trail (``store``)."""
