#!/bin/sh
# One-shot job (temporalio/admin-tools): register iscflow's namespace once the server answers.
set -eu
: "${TEMPORAL_ADDRESS:?}" "${NAMESPACE:?}"
retention="${NAMESPACE_RETENTION:-720h}"

# Dial the server's IPv4 address: it listens on 0.0.0.0 (BIND_ON_IP), not on IPv6.
host="${TEMPORAL_ADDRESS%:*}"
port="${TEMPORAL_ADDRESS##*:}"
ip="$(getent ahosts "$host" | awk '$1 ~ /^[0-9.]+$/ { print $1; exit }')"
address="${ip:-$host}:$port"

tries=0
until temporal operator cluster health --address "$address" | grep -q SERVING; do
    tries=$((tries + 1))
    [ "$tries" -lt 60 ] || { echo "Temporal at $address did not become healthy" >&2; exit 1; }
    sleep 2
done

if temporal operator namespace describe --address "$address" --namespace "$NAMESPACE" >/dev/null 2>&1; then
    echo "namespace $NAMESPACE exists"
else
    temporal operator namespace create --address "$address" \
        --namespace "$NAMESPACE" --retention "$retention" \
        --description "iscflow: key issues, escalations, task-force decisions"
fi
# iscflow registers no custom search attributes today: lists and dashboards read the SQL read
# model. A workflow that starts using one needs it created here first, e.g.
#   temporal operator search-attribute create --address "$address" \
#       --namespace "$NAMESPACE" --name IscflowTheme --type Keyword
