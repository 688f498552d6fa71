"""HTTP API under /api/v1: authorise, send the command, map the result."""
