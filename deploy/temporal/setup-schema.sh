#!/bin/sh
# One-shot job (temporalio/admin-tools): create or upgrade Temporal's schema in its two
# databases, which deploy/postgres/10-databases.sh created. Safe to run on every `up`.
set -eu
: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}" "${SQL_PASSWORD:?}"
port="${DB_PORT:-5432}"
schema=/etc/temporal/schema/postgresql/v12

sql_tool() {
    temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$port" \
        -u "$POSTGRES_USER" "$@"
}

for database in "${DBNAME:-temporal}:temporal" "${VISIBILITY_DBNAME:-temporal_visibility}:visibility"; do
    name="${database%%:*}"
    kind="${database##*:}"
    # setup-schema only creates the version table; it fails harmlessly when that exists.
    # A real failure (password, network) makes update-schema below fail too.
    sql_tool --db "$name" setup-schema -v 0.0 || echo "schema_version exists in $name"
    sql_tool --db "$name" update-schema -d "$schema/$kind/versioned"
done
echo "Temporal schema is up to date"
