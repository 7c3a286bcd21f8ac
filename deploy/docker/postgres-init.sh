#!/bin/sh
# First start of the compose PostgreSQL: the read model's role and database, and Temporal's role and
# its two databases (docs/production.md, section 2). Passwords come from the container's environment.
set -eu
psql -v ON_ERROR_STOP=1 --username postgres <<SQL
CREATE ROLE itilflow LOGIN PASSWORD '${ITILFLOW_DB_PASSWORD}';
CREATE DATABASE itilflow OWNER itilflow;
CREATE ROLE temporal LOGIN PASSWORD '${TEMPORAL_DB_PASSWORD}';
CREATE DATABASE temporal OWNER temporal;
CREATE DATABASE temporal_visibility OWNER temporal;
SQL
