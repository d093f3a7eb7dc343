#!/bin/bash
# test_log_storage_pg against a database of a private PostgreSQL cluster.
TEST_BIN=${2:?usage: $0 LOG_BENCH TEST_BIN}
LOG_BACKEND=pg
. "$(dirname "$0")/common.sh"
pg_createdb seam
FK_TEST_PG_URL="$PGURL/seam" "$TEST_BIN"
