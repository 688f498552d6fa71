"""E-mail notifications: templates in the six UN languages and their rendering."""
