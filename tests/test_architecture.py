"""The layout is the architecture: a walk of the import graph fails on any import that breaks its rules."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("pipeline.scan", "pipeline.ocr", "pipeline.sign", "pipeline.archive", "pipeline.catalog", "search")
MAX_LINES = 400


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Project modules imported by ``path`` (absolute and relative; lazy imports inside functions too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            for alias in node.names:  # `from pkg import submodule` imports the submodule, not the package
                sub = ROOT.joinpath(*module.split("."), alias.name)
                found.add(f"{module}.{alias.name}" if sub.with_suffix(".py").is_file() or sub.is_dir() else module)
    return {m for m in found if m == "search" or m.startswith(("pipeline.", "search."))}


def _sources() -> list[Path]:
    return sorted(p for d in ("pipeline", "search") for p in (ROOT / d).rglob("*.py"))


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _stage(module: str) -> str | None:
    return next((s for s in STAGES if _within(module, s)), None)


def violations() -> list[str]:
    problems: list[str] = []
    for path in _sources():
        me = _module_name(path)
        for target in sorted(_imports(path)):
            rel = path.relative_to(ROOT)
            if _within(target, "pipeline.devtools") and not _within(me, "pipeline.devtools"):
                problems.append(f"{rel}: production code imports development tooling {target}")
            if _within(me, "pipeline.core") and not _within(target, "pipeline.core"):
                problems.append(f"{rel}: core imports {target} (core imports nothing else of the project)")
            if _within(me, "pipeline.tools") and not (_within(target, "pipeline.core")
                                                       or _within(target, "pipeline.tools")):
                problems.append(f"{rel}: tools import {target} (tools may use core only)")
            mine, theirs = _stage(me), _stage(target)
            if mine and theirs and mine != theirs:
                problems.append(f"{rel}: stage {mine} imports stage {theirs} (stages exchange plain data)")
            if mine and (_within(target, "pipeline.app") or _within(target, "pipeline.entry")):
                problems.append(f"{rel}: stage {mine} imports {target} (the layers above it)")
            if _within(me, "pipeline.entry") and not any(_within(target, p) for p in
                                                         ("pipeline.app", "pipeline.core", "pipeline.entry")):
                problems.append(f"{rel}: entry imports {target} (doors call the application layer only)")
            # The Celery executor submits through the worker's client module (its task handles): the one edge up.
            if _within(me, "pipeline.app") and _within(target, "pipeline.entry") \
                    and target != "pipeline.entry.worker_client":
                problems.append(f"{rel}: app imports the door {target}")
    return problems


def test_import_graph_follows_the_architecture() -> None:
    assert violations() == []


def test_the_rules_catch_each_kind_of_break(tmp_path: Path) -> None:
    """The walk is not vacuous: planted modules breaking each rule are reported."""
    planted = {
        "pipeline/scan/_bad.py": "from pipeline.ocr import make_pdfa\n",
        "pipeline/core/_bad.py": "from pipeline.archive import ArchiveStore\n",
        "pipeline/app/_bad.py": "def f():\n    from pipeline.devtools import init_test_pki\n",
        "pipeline/entry/_bad.py": "from pipeline.sign import sign_pdf\n",
    }
    for rel, text in planted.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    globals()["ROOT"] = tmp_path
    try:
        found = "\n".join(violations())
    finally:
        globals()["ROOT"] = Path(__file__).resolve().parents[1]
    assert "stage pipeline.scan imports stage pipeline.ocr" in found
    assert "core imports pipeline.archive" in found
    assert "production code imports development tooling pipeline.devtools" in found
    assert "entry imports pipeline.sign" in found


def test_no_production_file_over_the_size_limit() -> None:
    long = [f"{p.relative_to(ROOT)}: {n} lines" for p in _sources()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES]
    assert long == []
