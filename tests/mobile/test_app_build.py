"""The app's build project (`infra/app`, staged by `infra/scripts/build_app.sh`): what
`flet build` packages is the app alone, and every package its code imports is one it
declares (or one of theirs), at the pins the project tests with. `flet build` itself needs
the Flutter SDK, which this machine cannot fetch."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "infra" / "app"

IMPORT_ALL = """
import importlib, json, pkgutil, sys
sys.path.insert(0, sys.argv[1])
for package in ("mobile", "shared"):
    root = importlib.import_module(package)
    for found in pkgutil.walk_packages(root.__path__, package + "."):
        importlib.import_module(found.name)
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def requirement_name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def imported_by(tree: Path) -> set[str]:
    """The top-level modules that the code under `tree` imports by name."""
    names: set[str] = set()
    for source in tree.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def test_the_staged_app_holds_the_app_and_imports_only_what_it_declares(tmp_path: Path) -> None:
    staged = tmp_path / "app-src"
    subprocess.run([ROOT / "infra/scripts/build_app.sh", "--stage-only", staged], check=True)
    assert sorted(p.name for p in staged.iterdir()) == [
        "main.py",
        "mobile",
        "pyproject.toml",
        "shared",
    ]
    assert not list(staged.rglob("__pycache__"))
    done = subprocess.run(
        [sys.executable, "-I", "-c", IMPORT_ALL, str(staged)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    loaded = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert {"mobile", "shared"} <= loaded  # every module of the app imports
    assert not loaded & {"server", "tests", "training"}  # and nothing of the server ships
    project = tomllib.loads((staged / "pyproject.toml").read_text())
    flet = project["tool"]["flet"]
    phones_only = [r for p in ("android", "ios") for r in flet[p].get("dependencies", [])]
    declared = {requirement_name(r) for r in project["project"]["dependencies"] + phones_only}
    owners = metadata.packages_distributions()
    ours = imported_by(staged) - set(sys.stdlib_module_names) - {"mobile", "shared"}
    assert "flet" in ours and "pydantic" in ours
    for module in ours:
        distributions = {d.lower().replace("_", "-") for d in owners.get(module, [])}
        assert distributions & declared, f"{module} ({distributions}) is not declared"


def test_the_app_pins_match_the_projects() -> None:
    """The build installs what the tests ran with: the `mobile` extra's pins (less the
    desktop and web servers, which a phone build does not ship) and pydantic's."""
    app = tomllib.loads((APP / "pyproject.toml").read_text())["project"]["dependencies"]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    expected = [
        pin
        for pin in project["optional-dependencies"]["mobile"]
        if requirement_name(pin) not in ("flet-web", "flet-cli")
    ] + project["dependencies"]
    assert sorted(app) == sorted(expected)
