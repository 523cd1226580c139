"""``python -m neurocomplex.cli``."""

import sys

from neurocomplex.cli import main

sys.exit(main())
