"""The layout of tests/: helpers live in helper modules (tests/processes.py, tests/fake_openai.py,
a directory's helpers.py, ...), never in test modules or conftest files that others import; and every
directory of test code is a package, so two test modules of the same name in different directories
never clash.

Read from the source with ``ast``, so an import inside a function or under ``if TYPE_CHECKING:``
counts too."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
CHECKED = (TESTS, ROOT / "bench")  # bench/ imports the fakes and helpers of tests/ too


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, name: str, is_package: bool = False) -> set[str]:
    """Every module the module ``name`` (with this ``source``) imports from, with
    ``from pkg import sub`` counted as ``pkg.sub`` too."""
    found = set()
    for node in ast.walk(ast.parse(source, name)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def imported_test_module(module: str) -> str | None:
    """The test module or conftest of tests/ that importing ``module`` imports, if any."""
    parts = module.split(".")
    if parts[0] != "tests":
        return None
    for depth, part in enumerate(parts[1:], start=2):
        if part == "conftest" or part.startswith("test_"):
            return ".".join(parts[:depth])
    return None


def offending(imported: set[str]) -> list[str]:
    return sorted({found for module in imported if (found := imported_test_module(module))})


def offending_imports(path: Path) -> list[str]:
    return offending(imported_modules(path.read_text(encoding="utf-8"), module_name(path),
                                      path.name == "__init__.py"))


def test_nothing_imports_from_a_test_module_or_a_conftest():
    offenders = [f"{path.relative_to(ROOT)}: {module}"
                 for folder in CHECKED for path in sorted(folder.rglob("*.py"))
                 if "__pycache__" not in path.parts
                 for module in offending_imports(path)]
    assert not offenders, ("move what these import into a helper module (tests/processes.py, a helpers.py):\n"
                           + "\n".join(offenders))


def test_the_checker_sees_every_way_of_importing_a_test_module():
    cases = {
        "from tests.bot.slack.conftest import started\n": ["tests.bot.slack.conftest"],
        "from tests.bot.slack.test_http import copy\n": ["tests.bot.slack.test_http"],
        "import tests.engine.learning.test_finetune\n": ["tests.engine.learning.test_finetune"],
        "from tests.bot.slack import conftest\n": ["tests.bot.slack.conftest"],
        "from .test_http import copy\n": ["tests.bot.slack.test_http"],
        "from . import conftest\n": ["tests.bot.slack.conftest"],
        "def f():\n    from ..test_console import console_session\n": ["tests.bot.test_console"],
        "from tests.bot.slack.helpers import copy\nfrom tests.processes import run_copybot\n": [],
        "from tests.engine.reports.helpers import seed_feedback\nimport tests.fake_openai\n": [],
    }
    for source, expected in cases.items():
        assert offending(imported_modules(source, "tests.bot.slack.example")) == expected, source


def test_every_directory_of_test_code_is_a_package():
    folders = {path.parent for path in TESTS.rglob("*.py") if "__pycache__" not in path.parts}
    missing = sorted(str(folder.relative_to(ROOT)) for folder in folders if not (folder / "__init__.py").exists())
    assert not missing, "add an __init__.py to: " + ", ".join(missing)
