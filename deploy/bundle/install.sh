#!/usr/bin/env bash
# Install itilflow from this bundle, without network: ./install.sh [PREFIX]   (default /opt/itilflow)
#
#   PREFIX/venv            Python 3.11 virtualenv with itilflow (wheels from ./wheels, --no-index)
#   PREFIX/.cache/bin      temporal (dev server), temporal-server, temporal-sql-tool
#   PREFIX/.cache/temporal-schema   the server's PostgreSQL schemas
#   PREFIX/bin/itilflow    the command, with ITILFLOW_HOME=PREFIX so it finds the binaries above
#
# Then: PREFIX/bin/itilflow dev (everything on one machine), or the production processes
# (docs/production.md: itilflow server schema / start-cluster, itilflow db upgrade, worker, api).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
prefix=${1:-/opt/itilflow}
python=${PYTHON:-}
if [ -z "$python" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      python=$candidate; break
    fi
  done
fi
[ -n "$python" ] || { echo "itilflow needs Python 3.11 (set PYTHON=/path/to/python3.11)" >&2; exit 1; }

mkdir -p "$prefix/bin" "$prefix/.cache/bin"
"$python" -m venv --without-pip "$prefix/venv" 2>/dev/null || "$python" -m venv "$prefix/venv"
if [ ! -x "$prefix/venv/bin/pip" ]; then
  # ensurepip may be missing (Debian's python3-venv); install pip from the bundle's own wheel.
  pipwheel=$(ls "$here"/wheels/pip-*.whl | head -1)
  "$prefix/venv/bin/python" "$pipwheel/pip" install -q --no-index "$pipwheel"
fi
"$prefix/venv/bin/python" -m pip install -q --no-index --find-links "$here/wheels" itilflow
cp "$here"/bin/* "$prefix/.cache/bin/"
rm -rf "$prefix/.cache/temporal-schema"
cp -r "$here/temporal-schema" "$prefix/.cache/temporal-schema"
cat > "$prefix/bin/itilflow" <<WRAPPER
#!/bin/sh
# itilflow installed from the offline bundle: ITILFLOW_HOME tells it where the Temporal binaries are.
ITILFLOW_HOME="$prefix" exec "$prefix/venv/bin/itilflow" "\$@"
WRAPPER
chmod +x "$prefix/bin/itilflow"
echo "installed: $prefix/bin/itilflow ($("$prefix/venv/bin/python" -c 'import importlib.metadata as m; print("itilflow", m.version("itilflow"))'))"
