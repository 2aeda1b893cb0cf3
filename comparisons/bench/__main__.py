"""``python -m comparisons.bench``: the benchmark (and, with ``--worker``, one of its cells)."""

import sys

from comparisons.bench.driver import main

sys.exit(main())
