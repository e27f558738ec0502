"""Developer benchmarks of KeplerSR (not part of the installed package).

Run from a clone's root: ``python -m benchmarks <name> [options]``; the names
are listed by ``python -m benchmarks --help``. They need the package importable
(installed, or ``PYTHONPATH=python``) and print figures; the tests of their
pure parts live in ``tests/``.
"""
