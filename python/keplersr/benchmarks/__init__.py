"""Benchmarks and comparison studies (`keplersr bench ...`)."""
