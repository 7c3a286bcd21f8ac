"""Fetch the page's third-party assets from the npm registry at setup time (never at run time).

`python -m api.web.vendor` runs `npm pack` for each package into `.cache/npm/` and copies the few files
the page serves into `api/static/vendor/` (git-ignored). htmx is small and committed under
`api/static/`; mermaid (~3 MB) and Swagger UI are fetched here. The studio's code editor (CodeMirror 6,
`api/web/editor/`) is installed with `npm ci` from its lock file into `.cache/studio-editor/` and bundled
there with esbuild into `api/static/vendor/studio-editor.js`. Each served file also gets its gzip and
brotli forms (`.gz`, `.br`), so the page serves them without compressing per request
(api/web/assets.py). The page works without any of them: diagrams are then shown as their Mermaid
source, the studio keeps its plain text area, and /docs falls back to FastAPI's default page.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / "static"
VENDOR = STATIC / "vendor"
CACHE = Path(__file__).resolve().parents[2] / ".cache" / "npm"
# What only the tests use, never served: axe-core, the accessibility checker run inside the page by
# tests/web/test_accessibility.py (`python -m api.web.vendor --test-tools`, from scripts/test-deps.sh).
TEST_TOOLS = {"axe-core@4.14.1": {"package/axe.min.js": CACHE.parent / "axe-core" / "axe.min.js"}}
EDITOR_SOURCE = Path(__file__).resolve().parent / "editor"
EDITOR_BUILD = CACHE.parent / "studio-editor"
EDITOR_BUNDLE = VENDOR / "studio-editor.js"

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


def fetch_test_tools() -> list[Path]:
    written: list[Path] = []
    for spec, files in TEST_TOOLS.items():
        if all(target.exists() for target in files.values()):
            continue
        with tarfile.open(_pack(spec)) as tar:
            for member, target in files.items():
                source = tar.extractfile(member)
                if source is None:
                    raise FileNotFoundError(f"{member} is not in {spec}")
                target.parent.mkdir(parents=True, exist_ok=True)
                with source, open(target, "wb") as out:
                    shutil.copyfileobj(source, out)
                written.append(target)
    return written


def _editor_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(EDITOR_SOURCE.iterdir()):
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def build_editor() -> Path | None:
    """Bundle the studio's editor when its sources (or lock file) changed since the last build."""
    stamp = EDITOR_BUILD / "built"
    want = _editor_digest()
    if EDITOR_BUNDLE.exists() and stamp.exists() and stamp.read_text() == want:
        return None
    EDITOR_BUILD.mkdir(parents=True, exist_ok=True)
    for path in EDITOR_SOURCE.iterdir():
        if path.is_file():
            shutil.copy2(path, EDITOR_BUILD / path.name)
    # `npm ci`: exactly the versions of the committed lock file; esbuild's own install script is
    # not needed (its binary comes as an optional dependency package).
    npm = ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--silent"]
    subprocess.run(npm, cwd=EDITOR_BUILD, check=True)
    VENDOR.mkdir(parents=True, exist_ok=True)
    subprocess.run(["node", "build.mjs", str(EDITOR_BUNDLE)], cwd=EDITOR_BUILD, check=True)
    stamp.write_text(want)
    return EDITOR_BUNDLE


def precompress(folder: Path = VENDOR) -> list[Path]:
    """`X.gz` and `X.br` beside each large file whose compressed forms are missing or older."""
    written: list[Path] = []
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.suffix in (".gz", ".br") or path.name.startswith("."):
            continue
        data = None
        for suffix, squeeze in ((".gz", _gzip), (".br", _brotli)):
            target = path.with_name(path.name + suffix)
            if target.exists() and target.stat().st_mtime >= path.stat().st_mtime:
                continue
            data = data if data is not None else path.read_bytes()
            packed = squeeze(data)
            if packed is not None:
                target.write_bytes(packed)
                written.append(target)
    return written


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=0)


def _brotli(data: bytes) -> bytes | None:
    try:
        import brotli  # type: ignore[import-untyped]
    except ImportError:  # the page then serves gzip
        return None
    packed: bytes = brotli.compress(data, quality=11)
    return packed


def main() -> int:
    if shutil.which("npm") is None:
        print(
            "npm is not installed: the web page will show diagrams as Mermaid source, "
            "and the studio a plain text area",
            file=sys.stderr,
        )
        return 0
    root = STATIC.parent.parent
    if "--test-tools" in sys.argv[1:]:
        for path in fetch_test_tools():
            print(f"fetched {path.relative_to(root)}")
        return 0
    for path in fetch():
        print(f"fetched {path.relative_to(root)}")
    built = build_editor()
    if built is not None:
        print(f"built {built.relative_to(root)}")
    for path in precompress():
        print(f"compressed {path.relative_to(root)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
