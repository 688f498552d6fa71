"""iscflow: composition root, settings and command-line interface."""
