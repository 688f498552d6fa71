"""The web interface: server-rendered pages for every role, in the six UN languages."""
