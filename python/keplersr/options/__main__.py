"""``python -m keplersr.options README.md [--check]``: write (or check) the option reference.
``python -m keplersr.options julia``: regenerate the engine's defaults (julia/core/declared_defaults.jl)."""

import sys

from .reference import main

if sys.argv[1:2] == ["julia"]:
    from .julia_defaults import write_julia_defaults
    print(f"{write_julia_defaults()}: rewritten from the declaration")
    sys.exit(0)
sys.exit(main())
