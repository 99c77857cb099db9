"""The UI's layers point one way (docs/design.md §6): pages compose views, views bind components to
states, components import no state or view, states import no component or view, and the neutral
formatting modules import no UI at all. Read from the imports in the source (top-level or inside a
function, absolute or relative), so a new module is checked without being listed here.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "windtunnel_dash"
UI = ("components", "state", "views", "pages")
# What each layer (a package of the app, or one module) may not import.
FORBIDDEN = {
    "components": ("state", "views", "pages"),
    "state": ("components", "views", "pages"),
    "views": ("pages",),
    "format.py": UI,
    "timefmt.py": (*UI, "format"),
}


def imported_layers(source: str, package: tuple[str, ...]) -> set[str]:
    """The part right below windtunnel_dash of every module that `source`, a module of the subpackage
    `package` (() for windtunnel_dash itself), imports; a module file's part loses its .py."""
    targets: list[list[str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets += [alias.name.split(".") for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            here = ["windtunnel_dash", *package]
            base = here[: len(here) - node.level + 1] if node.level else []
            module = base + (node.module.split(".") if node.module else [])
            targets += [module + [alias.name] for alias in node.names]  # the name may be a submodule
    return {t[1] for t in targets if len(t) > 1 and t[0] == "windtunnel_dash"}


def _modules(layer: str) -> list[Path]:
    return sorted((PACKAGE / layer).rglob("*.py")) if layer in UI else [PACKAGE / layer]


def test_layers_import_one_way() -> None:
    wrong = []
    for layer, forbidden in FORBIDDEN.items():
        modules = _modules(layer)
        assert modules, f"no modules in {layer}"
        for path in modules:
            package = path.relative_to(PACKAGE).parent.parts
            bad = imported_layers(path.read_text(), package) & set(forbidden)
            wrong += [f"{path.relative_to(PACKAGE)} imports from {b}" for b in sorted(bad)]
    assert not wrong, "\n".join(wrong)


def test_every_form_of_import_is_read() -> None:
    source = (
        "import windtunnel_dash.state.run_detail\n"
        "from windtunnel_dash.components.live import relative_time\n"
        "from ..pages import run_list\n"
        "from . import shell\n"
        "def late():\n    from windtunnel_dash import format\n"
        "import reflex as rx\n"
    )
    assert imported_layers(source, ("views",)) == {"state", "components", "pages", "views", "format"}
    assert imported_layers("from .timefmt import parse_utc\n", ()) == {"timefmt"}
