"""Apps depend one way, in DESIGN §2's order: `config` ← `accounts` ← `tagging` ←
`calibrations`, `measurements` ← `monitoring`. Every module of every app (migrations excepted)
imports only apps to its left; calibrations and measurements not each other; `config` no app
but in its composition root (`config/urls.py`). An import inside a function counts too."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ORDER = {
    "config": 0,
    "accounts": 1,
    "tagging": 2,
    "calibrations": 3,
    "measurements": 3,
    "monitoring": 4,
}
COMPOSITION_ROOT = "config/urls.py"
MODULES = sorted(
    path.relative_to(ROOT).as_posix()
    for app in ORDER
    for path in (ROOT / app).rglob("*.py")
    if "migrations" not in path.relative_to(ROOT).parts
)


def imported_apps(module: Path) -> set[str]:
    """The project's apps a module imports, wherever the import statement is."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
    return names & set(ORDER)


def allowed(importer: str, imported: str) -> bool:
    if importer == imported:
        return True
    if importer == "config":
        return False
    return ORDER[imported] < ORDER[importer]


def test_every_app_is_found() -> None:
    found = {module.split("/")[0] for module in MODULES}
    assert found == set(ORDER)
    assert "tagging/models.py" in MODULES
    assert "monitoring/apps.py" in MODULES


@pytest.mark.parametrize("module", MODULES)
def test_a_module_imports_only_apps_before_its_own(module: str) -> None:
    app = module.split("/")[0]
    if module == COMPOSITION_ROOT:
        return  # the composition root names every app
    climbing = {name for name in imported_apps(ROOT / module) if not allowed(app, name)}
    assert not climbing, f"{module} imports {sorted(climbing)}, which {app} may not import"


def test_the_check_finds_an_import_that_climbs(tmp_path: Path) -> None:
    module = tmp_path / "models.py"
    module.write_text("def later():\n    from monitoring.models import Alarm\n")
    assert imported_apps(module) == {"monitoring"}
    assert not allowed("tagging", "monitoring")
    assert not allowed("calibrations", "measurements")
    assert not allowed("config", "accounts")
    assert allowed("calibrations", "tagging")
