"""The engine imports nothing from the apps above it (CONVENTIONS item 9), checked on the
source with `ast`: every import, lazy ones inside functions included, relative ones resolved."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENGINE = [
    "missions/__init__.py",
    "missions/catalog.py",
    "missions/errors.py",
    "missions/event_validation.py",
    "missions/evaluators",
    "missions/models.py",
    "missions/periods.py",
    "missions/receivers.py",
    "missions/selectors.py",
    "missions/services",
    "missions/signals.py",
    "missions/tasks.py",
    "missions/validation.py",
]
ABOVE_ENGINE = ("rewards", "streaks", "analytics", "missions.player", "missions.webhooks")


def imported_modules(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Absolute names of every module `source` (the module `module`) imports; for
    `from x import y` both `x` and `x.y` (y may be a submodule)."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            found.add(prefix)
            found.update(f"{prefix}.{alias.name}" for alias in node.names)
    return found


def _imports_of(path: Path) -> set[str]:
    parts = path.relative_to(ROOT).with_suffix("").parts
    is_package = parts[-1] == "__init__"
    module = ".".join(parts[:-1] if is_package else parts)
    return imported_modules(path.read_text(), module, is_package=is_package)


def _files(entries: list[str]) -> list[Path]:
    files: list[Path] = []
    for entry in entries:
        path = ROOT / entry
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return files


def _violations(files: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in files
        for name in sorted(_imports_of(path))
        if any(name == top or name.startswith(f"{top}.") for top in forbidden)
    ]


def test_engine_imports_nothing_from_rewards_streaks_analytics_or_the_player_surface() -> None:
    files = _files(ENGINE)
    assert len(files) > 20  # the engine's modules were found (a moved folder fails here)
    assert _violations(files, ABOVE_ENGINE) == []


def test_rewards_and_streaks_import_the_player_surface_only_in_their_api_views() -> None:
    files = [
        path
        for app in ("rewards", "streaks")
        for path in _files([app])
        if path.name not in ("apis.py", "urls.py") and "migrations" not in path.parts
    ]
    assert _violations(files, ("missions.player", "analytics")) == []


def test_the_checker_sees_relative_and_lazy_imports() -> None:
    source = (
        "from ..player import live\n"
        "from . import progress\n"
        "def f():\n"
        "    from rewards.models import UserBadge\n"
        "    import streaks.models\n"
    )
    found = imported_modules(source, "missions.services.probe")
    assert found == {
        "missions.player",
        "missions.player.live",
        "missions.services",
        "missions.services.progress",
        "rewards.models",
        "rewards.models.UserBadge",
        "streaks.models",
    }
    assert imported_modules("from .models import X", "missions", is_package=True) == {
        "missions.models",
        "missions.models.X",
    }
