#!/bin/bash
# Runs once, when the PostgreSQL volume is first initialised (docker-entrypoint-initdb.d).
# Temporal and iscflow get separate roles and databases: Temporal's schema tool owns `temporal`
# and `temporal_visibility`, iscflow's migrations own `iscflow`; neither can touch the other's.
# Passwords come from the environment and reach SQL as psql variables, never as SQL text.
set -euo pipefail
: "${TEMPORAL_DB_PASSWORD:?set TEMPORAL_DB_PASSWORD}"
: "${ISCFLOW_DB_PASSWORD:?set ISCFLOW_DB_PASSWORD}"

psql --no-psqlrc --set ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    --set temporal_password="$TEMPORAL_DB_PASSWORD" \
    --set iscflow_password="$ISCFLOW_DB_PASSWORD" <<'SQL'
CREATE ROLE temporal LOGIN PASSWORD :'temporal_password';
CREATE DATABASE temporal OWNER temporal;
CREATE DATABASE temporal_visibility OWNER temporal;
REVOKE ALL ON DATABASE temporal, temporal_visibility FROM PUBLIC;

CREATE ROLE iscflow LOGIN PASSWORD :'iscflow_password';
CREATE DATABASE iscflow OWNER iscflow;
REVOKE ALL ON DATABASE iscflow FROM PUBLIC;
SQL
