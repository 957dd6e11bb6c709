"""``python -m cossim.audit``: the audit's command line, the same as ``cossim-audit`` (see :mod:`cossim.cli`)."""

from cossim.cli import main

raise SystemExit(main())
