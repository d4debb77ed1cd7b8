"""``python -m lib.data.synthcity``: see ``lib.data.synthcity.cli``."""

from lib.data.synthcity.cli import main

raise SystemExit(main())
