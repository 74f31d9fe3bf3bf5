"""``python -m dlstat``: the ``dlstat`` command line (see :mod:`dlstat.fronts.cli`)."""

import sys

from .fronts.cli import main

if __name__ == "__main__":
    sys.exit(main())
