"""``python -m keplersr.options README.md [--check]``: write (or check) the option reference."""

import sys

from .reference import main

sys.exit(main())
