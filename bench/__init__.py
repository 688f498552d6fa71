"""Benchmarks: each measures a bare baseline and the project in the same run (`iscflow bench`)."""
