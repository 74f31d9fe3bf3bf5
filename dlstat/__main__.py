"""``python -m dlstat``: the ``dlstat`` command line (see :mod:`dlstat.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
