"""The deployment artefacts under deploy/ (Dockerfiles, compose, nginx, Helm values, Kubernetes
manifests): no Docker or Kubernetes here, so what can be checked without them is — every YAML parses,
the pieces name each other consistently, every setting they set exists, the Dockerfiles copy every
package the wheel needs, and Temporal's settings equal what `itilflow server start-cluster` renders."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from cli import build_parser
from core.settings import Settings
from devenv.temporal_cluster import SERVER_VERSION, dynamic_config

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
YAML_FILES = sorted(DEPLOY.rglob("*.yaml"))


def _load(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text("utf-8")) if doc is not None]


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_every_yaml_file_parses(path: Path) -> None:
    assert _load(path), f"{path} is empty"


def test_there_are_the_artefacts_the_docs_name() -> None:
    names = {str(p.relative_to(DEPLOY)) for p in DEPLOY.rglob("*") if p.is_file()}
    assert {
        "docker/api.Dockerfile",
        "docker/worker.Dockerfile",
        "docker/compose.yaml",
        "docker/nginx.conf",
        "helm/temporal-values.yaml",
        "kubernetes/itilflow.yaml",
    } <= names


def _compose() -> dict[str, Any]:
    [doc] = _load(DEPLOY / "docker" / "compose.yaml")
    return dict(doc)


def test_compose_runs_two_apis_two_workers_behind_a_proxy_on_postgres() -> None:
    services = _compose()["services"]
    assert {"postgres", "temporal", "api1", "api2", "worker1", "worker2", "proxy", "migrate"} <= set(services)
    assert services["temporal"]["environment"]["DB"] == "postgres12"
    assert services["temporal"]["image"].endswith(":" + SERVER_VERSION.lstrip("v"))
    for name in ("api1", "api2"):
        assert services[name]["image"].startswith("itilflow-api:")
    for name in ("worker1", "worker2"):
        assert services[name]["image"].startswith("itilflow-worker:")
    # nginx's upstream is exactly the API replicas, on the port the image serves.
    upstream = re.findall(r"server (\S+):8000", (DEPLOY / "docker" / "nginx.conf").read_text())
    assert sorted(upstream) == ["api1", "api2"]
    mounted = [v.split(":")[0] for s in services.values() for v in s.get("volumes", []) if v.startswith("./")]
    for path in mounted:
        assert (DEPLOY / "docker" / path).is_file(), f"compose mounts {path}, which is missing"


def _settings_env_names() -> set[str]:
    names = set()
    for name, info in Settings.model_fields.items():
        names.add(f"ITILFLOW_{name.upper()}")
        alias = info.validation_alias
        names.update(getattr(alias, "choices", []) or ([alias] if isinstance(alias, str) else []))
    return names


def test_every_setting_the_artefacts_set_exists() -> None:
    known = _settings_env_names()
    text = "\n".join(p.read_text("utf-8") for p in DEPLOY.rglob("*") if p.is_file())
    used = set(re.findall(r"\b(ITILFLOW_[A-Z_]+)\b(?=:|\s*=)", text))
    # compose's own variable for the database role; where the Temporal binaries are (devenv/temporal_cli)
    used -= {"ITILFLOW_DB_PASSWORD", "ITILFLOW_HOME"}
    assert used, "no setting found: the pattern no longer matches the files"
    assert used <= known, f"not settings: {sorted(used - known)}"


def test_the_dockerfiles_copy_every_package_and_run_real_commands() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    parser = build_parser()
    for name in ("api", "worker"):
        text = (DEPLOY / "docker" / f"{name}.Dockerfile").read_text()
        copied = set(re.findall(r"^COPY (\w+) \1$", text, re.MULTILINE))
        assert packages <= copied, f"{name}.Dockerfile misses {sorted(packages - copied)}"
        [cmd] = re.findall(r"^CMD (\[.*\])$", text, re.MULTILINE)
        argv = yaml.safe_load(cmd)
        assert argv[0] == "itilflow"
        parser.parse_args(argv[1:])  # exits if the command does not exist


def test_temporal_settings_equal_what_start_cluster_renders() -> None:
    [dynamic] = _load(DEPLOY / "docker" / "temporal-dynamicconfig.yaml")
    assert dynamic == dynamic_config()
    [values] = _load(DEPLOY / "helm" / "temporal-values.yaml")
    assert values["server"]["dynamicConfig"] == dynamic_config()
    assert values["server"]["image"]["tag"] == SERVER_VERSION.lstrip("v")
    stores = values["server"]["config"]["persistence"]["datastores"]
    assert {s["sql"]["pluginName"] for s in stores.values()} == {"postgres12"}
    assert all("password" not in s["sql"] for s in stores.values()), "passwords belong in a Secret"


def test_kubernetes_runs_two_apis_two_workers_and_the_migration() -> None:
    docs = _load(DEPLOY / "kubernetes" / "itilflow.yaml")
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for doc in docs:
        assert {"apiVersion", "kind", "metadata"} <= set(doc)
        by_kind.setdefault(doc["kind"], []).append(doc)
    deployments = {d["metadata"]["name"]: d for d in by_kind["Deployment"]}
    assert deployments["itilflow-api"]["spec"]["replicas"] == 2
    assert deployments["itilflow-worker"]["spec"]["replicas"] == 2
    [job] = by_kind["Job"]
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["itilflow", "db", "upgrade"]
    parser = build_parser()
    for d in [*deployments.values(), job]:
        for container in d["spec"]["template"]["spec"]["containers"]:
            parser.parse_args(container["command"][1:])
    [config] = by_kind["ConfigMap"]
    assert set(config["data"]) <= _settings_env_names()
