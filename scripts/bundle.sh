#!/usr/bin/env bash
# `make bundle`: one archive that installs and runs itilflow on a machine without network
# (docs/production.md, section 7): the wheels of itilflow and every dependency for this platform
# (Python 3.11, this CPU), the Temporal binaries built at set-up (dev CLI, server, SQL tool) and the
# server's PostgreSQL schemas; the web page's vendor files travel inside itilflow's wheel.
#
# Needs the network once, here (PyPI for the wheels); the target needs only Python 3.11.
# Output: dist/itilflow-<version>-<platform>.tar.gz
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(.venv/bin/python -c 'import tomllib;print(tomllib.load(open("pyproject.toml","rb"))["project"]["version"])')
platform="linux-$(uname -m)"
name="itilflow-${version}-${platform}"
out=dist/bundle/$name
rm -rf "$out" && mkdir -p "$out/wheels" "$out/bin"

for f in mermaid.min.js swagger-ui-bundle.js swagger-ui.css; do
  [ -f "api/static/vendor/$f" ] || { echo "bundle: api/static/vendor/$f is missing: run make setup" >&2; exit 1; }
done
for b in temporal temporal-server temporal-sql-tool; do
  [ -x ".cache/bin/$b" ] || { echo "bundle: .cache/bin/$b is missing: run make setup (needs Go)" >&2; exit 1; }
  cp ".cache/bin/$b" "$out/bin/"
done
[ -d .cache/temporal-schema ] || { echo "bundle: .cache/temporal-schema is missing: run make setup" >&2; exit 1; }
cp -r .cache/temporal-schema "$out/temporal-schema"

echo "==> wheels (itilflow and its dependencies, for $(.venv/bin/python -c 'import sysconfig;print(sysconfig.get_platform())'))"
# A clean build folder: a stale build/ would carry deleted modules into the wheel.
rm -rf build
.venv/bin/python -m pip wheel -q --wheel-dir "$out/wheels" . pip setuptools wheel
rm -rf build

cp deploy/bundle/install.sh "$out/install.sh"
chmod +x "$out/install.sh"
cp deploy/bundle/README.txt "$out/README.txt"
mkdir -p dist
tar -C dist/bundle -czf "dist/$name.tar.gz" "$name"
echo "dist/$name.tar.gz ($(du -h "dist/$name.tar.gz" | cut -f1))"
