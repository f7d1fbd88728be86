"""ip-assistant backend: `python server.py [run|migrate|create-user|seed|…]`. The wiring lives in app/factory.py."""

from __future__ import annotations

import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main())
