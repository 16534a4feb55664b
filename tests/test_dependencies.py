"""Every third-party module the code imports is declared in pyproject.toml: an import that works here only
because some other package happens to pull it in breaks the next install."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pipeline", "search")
OWN = {"pipeline", "search", "tests"}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = set()
    for requirement in project.get("dependencies", []):
        found = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
        assert found, requirement
        names.add(_canonical(found.group(1)))
    return names


def _imported() -> dict[str, set[str]]:
    """Top-level module name → the files importing it (absolute imports, anywhere in a module)."""
    modules: dict[str, set[str]] = {}
    for source in SOURCES:
        for path in sorted((ROOT / source).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    modules.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return modules


def test_every_imported_distribution_is_declared() -> None:
    declared = _declared()
    distributions = packages_distributions()
    problems = []
    for module, files in sorted(_imported().items()):
        if module in sys.stdlib_module_names or module in OWN or module == "__future__":
            continue
        dists = {_canonical(d) for d in distributions.get(module, [])}
        where = ", ".join(sorted(files)[:3]) + (" …" if len(files) > 3 else "")
        if not dists:
            problems.append(f"{module}: not installed (imported by {where})")
        elif not dists & declared:
            problems.append(f"{module}: from {' or '.join(sorted(dists))}, not in [project] dependencies "
                            f"(imported by {where})")
    assert not problems, "undeclared imports:\n" + "\n".join(problems)
