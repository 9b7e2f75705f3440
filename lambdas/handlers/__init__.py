"""Thin Lambda handlers: parse the event, call the core, shape the response.

Importing any handler checks a deployed function's settings first (a no-op outside Lambda):
a missing or invalid setting stops the cold start with a message naming the variable,
instead of a silent fall-back to a local default (SQLite, an embedded index).
"""

from ragline.settings import refuse_to_start_misconfigured

refuse_to_start_misconfigured()
