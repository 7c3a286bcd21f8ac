"""Fetch the page's third-party assets from the npm registry at setup time (never at run time).

`python -m api.web.vendor` runs `npm pack` for each package into `.cache/npm/` and copies the few files
the page serves into `api/static/vendor/` (git-ignored). htmx is small and committed under
`api/static/`; mermaid (~3 MB) and Swagger UI are fetched here. The page works without them: diagrams
are then shown as their Mermaid source and /docs falls back to FastAPI's default page.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / "static"
VENDOR = STATIC / "vendor"
CACHE = Path(__file__).resolve().parents[2] / ".cache" / "npm"

# package spec -> {file inside the package tarball: file name under api/static/vendor}
PACKAGES: dict[str, dict[str, str]] = {
    "mermaid@11.12.2": {"package/dist/mermaid.min.js": "mermaid.min.js"},
    "swagger-ui-dist@5.35.0": {
        "package/swagger-ui-bundle.js": "swagger-ui-bundle.js",
        "package/swagger-ui.css": "swagger-ui.css",
    },
}


def _pack(spec: str) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    name, _, version = spec.rpartition("@")
    tarball = CACHE / f"{name.replace('/', '-').lstrip('@')}-{version}.tgz"
    if not tarball.exists():
        out = subprocess.run(
            ["npm", "pack", spec, "--silent", "--pack-destination", str(CACHE)],
            check=True,
            capture_output=True,
            text=True,
        )
        produced = CACHE / out.stdout.strip().splitlines()[-1]
        if produced != tarball:
            produced.rename(tarball)
    return tarball


def fetch() -> list[Path]:
    written: list[Path] = []
    VENDOR.mkdir(parents=True, exist_ok=True)
    for spec, files in PACKAGES.items():
        targets = {VENDOR / name for name in files.values()}
        if all(t.exists() for t in targets):
            continue
        with tarfile.open(_pack(spec)) as tar:
            for member, name in files.items():
                source = tar.extractfile(member)
                if source is None:
                    raise FileNotFoundError(f"{member} is not in {spec}")
                with source, open(VENDOR / name, "wb") as target:
                    shutil.copyfileobj(source, target)
                written.append(VENDOR / name)
    return written


def main() -> int:
    if shutil.which("npm") is None:
        print("npm is not installed: the web page will show diagrams as Mermaid source", file=sys.stderr)
        return 0
    for path in fetch():
        print(f"fetched {path.relative_to(STATIC.parent.parent)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
