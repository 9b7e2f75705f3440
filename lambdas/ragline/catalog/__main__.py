"""``python -m ragline.catalog [URL] [--sql]``: migrate the catalog (default: the URL from
settings), or print the migration DDL for the URL's dialect without connecting."""

from ragline.catalog.migrate import main

raise SystemExit(main())
