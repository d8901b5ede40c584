"""Benchmarks (`make bench`); a package so that they and the tests share bench.longsession."""
