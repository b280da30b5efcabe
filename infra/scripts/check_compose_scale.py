"""Check docker-compose.yml's "scale" profile: two API instances, two workers, what they share.

    python infra/scripts/check_compose_scale.py [COMPOSE_FILE]

Run by check_compose.sh on the file as written and on `docker-compose config` output (the
anchors as Compose resolves them), and by tests/test_deploy_files.py. Exit status 1 with one
line per problem. Only the standard library and a YAML parser (PyYAML, or ruamel.yaml in
check_compose.sh's tools venv) are needed.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PROFILE = "scale"
ROLES = {"api-1": "api", "api-2": "api", "worker-1": "worker", "worker-2": "worker"}
BACKING = ("postgres", "redis", "minio")  # each needs a healthcheck the instances wait for
LB = "lb"
ONE_BOX = "server"  # the service `docker compose up` starts, with no profile
# Settings every instance needs when roles are split, and the value each must have
# (None: any non-empty value, or a ${VAR...} the operator sets).
SHARED_ENV: dict[str, str | None] = {
    "SHOPGUARD_MODE": "production",
    "SHOPGUARD_DATABASE_URL": None,
    "SHOPGUARD_REDIS__URL": None,
    "SHOPGUARD_BUS__BACKEND": "redis",
    "SHOPGUARD_EVIDENCE__BACKEND": "s3",
    "SHOPGUARD_EVIDENCE__S3__ENDPOINT": None,
    "SHOPGUARD_EVIDENCE__S3__ACCESS_KEY": None,
    "SHOPGUARD_EVIDENCE__S3__SECRET_KEY": None,
    "SHOPGUARD_AUTH__JWT_SECRET": None,
}
# The same everywhere: one database, one bus, one store, one signing key.
SAME_EVERYWHERE = (
    "SHOPGUARD_DATABASE_URL",
    "SHOPGUARD_REDIS__URL",
    "SHOPGUARD_EVIDENCE__S3__ENDPOINT",
    "SHOPGUARD_AUTH__JWT_SECRET",
)


def load(path: Path) -> dict[str, Any]:
    """The compose file as plain data (YAML anchors and merge keys resolved)."""
    text = path.read_text(encoding="utf-8")
    doc: Any
    try:
        import yaml
    except ImportError:  # check_compose.sh's tools venv has ruamel.yaml only
        doc = importlib.import_module("ruamel.yaml").YAML(typ="safe").load(text)
    else:
        doc = yaml.safe_load(text)
    if not isinstance(doc, dict):
        raise ValueError(f"{path} is not a YAML mapping")
    return doc


def environment(service: Mapping[str, Any]) -> dict[str, str | None]:
    """A service's environment as a mapping (Compose allows a list of KEY=VALUE too)."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) if "=" in item else (item, None) for item in env)
        return dict(pairs)
    return {str(k): None if v is None else str(v) for k, v in env.items()}


def role(service: Mapping[str, Any]) -> str:
    """The role a server service runs: `--role X` in its command, else the environment."""
    command = service.get("command") or []
    words = command.split() if isinstance(command, str) else [str(w) for w in command]
    if "--role" in words[:-1]:
        return words[words.index("--role") + 1]
    return environment(service).get("SHOPGUARD_CLUSTER__ROLE") or "all"


def depends_on(service: Mapping[str, Any]) -> dict[str, str]:
    """Dependency name → condition (the short list form means service_started)."""
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {str(name): "service_started" for name in deps}
    return {str(k): str((v or {}).get("condition", "service_started")) for k, v in deps.items()}


def _bind_sources(service: Mapping[str, Any], root: Path) -> list[Path]:
    sources = []
    for volume in service.get("volumes") or []:
        source = volume.get("source") if isinstance(volume, dict) else volume.split(":")[0]
        if source and (source.startswith((".", "/"))):
            sources.append((root / source).resolve())
    return sources


def problems(doc: Mapping[str, Any], root: Path) -> list[str]:
    """Everything wrong with the scale profile (and the one-box default it must not change)."""
    found: list[str] = []
    services: Mapping[str, Any] = doc.get("services") or {}

    def in_profile(name: str) -> bool:
        return PROFILE in (services.get(name) or {}).get("profiles", [])

    # The one-box default: exactly one service without a profile, running everything.
    plain = sorted(name for name, svc in services.items() if not (svc or {}).get("profiles"))
    if plain != [ONE_BOX]:
        found.append(f"services without a profile are {plain}, expected only [{ONE_BOX!r}]")
    elif role(services[ONE_BOX]) != "all":
        found.append(f"{ONE_BOX} must keep the role all")

    # Two API instances and two workers, with their roles.
    servers = {
        name: role(svc)
        for name, svc in services.items()
        if in_profile(name) and "SHOPGUARD_CLUSTER__ROLE" in environment(svc or {})
    }
    for name, expected in ROLES.items():
        if name not in services or not in_profile(name):
            found.append(f"{name}: missing from the {PROFILE} profile")
        elif role(services[name]) != expected:
            found.append(f"{name}: role {role(services[name])!r}, expected {expected!r}")
    for r in ("api", "worker"):
        have = sorted(name for name, got in servers.items() if got == r)
        if len(have) != 2:
            found.append(f"{PROFILE} profile: {len(have)} {r} services {have}, expected 2")

    present = [name for name in ROLES if name in services]
    images = {str(services[name].get("image")) for name in present}
    if len(images) > 1:
        found.append(f"API instances and workers must run one image, not {sorted(images)}")
    for name in present:
        svc = services[name]
        env = environment(svc)
        for key, value in SHARED_ENV.items():
            if key not in env or env[key] in (None, ""):
                if key not in env or value is not None:
                    found.append(f"{name}: {key} is not set")
            elif value is not None and env[key] != value:
                found.append(f"{name}: {key} is {env[key]!r}, expected {value!r}")
        url = env.get("SHOPGUARD_DATABASE_URL") or ""
        if not re.match(r"^postgres(ql)?(\+asyncpg)?://", url):
            found.append(f"{name}: SHOPGUARD_DATABASE_URL must be PostgreSQL, not {url!r}")
        if not (env.get("SHOPGUARD_REDIS__URL") or "").startswith("redis"):
            found.append(f"{name}: SHOPGUARD_REDIS__URL must be a redis:// URL")
        deps = depends_on(svc)
        for backing in BACKING:
            if deps.get(backing) != "service_healthy":
                found.append(f"{name}: must depend on {backing} with condition service_healthy")
        check = svc.get("healthcheck") or {}
        if not check.get("test") or check.get("disable"):
            found.append(f"{name}: no healthcheck")
        if ROLES[name] == "worker" and not env.get("SHOPGUARD_CLUSTER__WORKER_CAPACITY"):
            found.append(f"{name}: SHOPGUARD_CLUSTER__WORKER_CAPACITY is not set")
    for key in SAME_EVERYWHERE:
        values = {environment(services[name]).get(key) for name in present}
        if len(values) > 1:
            found.append(f"{key} differs between the instances: {sorted(map(str, values))}")
    names = [environment(services[n]).get("SHOPGUARD_CLUSTER__WORKER_NAME") for n in present]
    named = [n for n in names if n]
    if len(named) != len(set(named)):
        found.append(f"two workers share a SHOPGUARD_CLUSTER__WORKER_NAME: {named}")

    # The backing services the instances share.
    for backing in BACKING:
        svc = services.get(backing) or {}
        if not in_profile(backing):
            found.append(f"{backing}: not in the {PROFILE} profile")
        if not (svc.get("healthcheck") or {}).get("test"):
            found.append(f"{backing}: no healthcheck")

    # The load balancer: published, in front of every API instance, each named in its config.
    lb = services.get(LB) or {}
    if not in_profile(LB):
        found.append(f"{LB}: missing from the {PROFILE} profile")
    else:
        apis = sorted(n for n, r in ROLES.items() if r == "api")
        if not lb.get("ports"):
            found.append(f"{LB}: publishes no port")
        if not (lb.get("healthcheck") or {}).get("test"):
            found.append(f"{LB}: no healthcheck")
        missing = sorted(set(apis) - set(depends_on(lb)))
        if missing:
            found.append(f"{LB}: does not depend on {missing}")
        configs = [p for p in _bind_sources(lb, root) if p.is_file()]
        if not configs:
            found.append(f"{LB}: no configuration file is mounted (or it does not exist)")
        text = "\n".join(p.read_text(encoding="utf-8") for p in configs)
        for api in apis:
            if not re.search(rf"^\s*server\s+\S+\s+{re.escape(api)}:8000\b", text, re.M):
                found.append(f"{LB}: its configuration does not send requests to {api}:8000")

    # Pinned images: a tag, and never latest (images built here are exempt).
    for name, svc in services.items():
        image = str((svc or {}).get("image") or "")
        if not image or (svc or {}).get("build"):
            continue
        tag = image.rsplit("/", 1)[-1].partition(":")[2]
        if not tag or tag == "latest":
            found.append(f"{name}: image {image!r} is not pinned to a tag")
    return found


def main(argv: list[str]) -> int:
    path = Path(argv[1] if len(argv) > 1 else "docker-compose.yml").resolve()
    # Paths in the file are relative to the directory of the file Compose was given.
    root = Path(argv[2]).resolve() if len(argv) > 2 else path.parent
    found = problems(load(path), root)
    for line in found:
        sys.stderr.write(f"check_compose_scale: FAIL: {line}\n")
    if not found:
        sys.stdout.write(f"check_compose_scale: OK: the {PROFILE} profile of {path.name}\n")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
