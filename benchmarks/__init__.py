"""Benchmarks: each ``bench_<name>.py`` exposes ``run() -> dict``; ``benchmarks.run`` runs them."""
