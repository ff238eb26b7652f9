"""The analysis's computing modules import neither Flask nor SQLAlchemy: frames in, tables, figures and files out.

Only the loader (SQL -> frames), the monitoring queries, the pages and the commands touch Flask and the database.
The modules are imported one after another in one fresh interpreter (not this test session's, whose imports would
hide a dependency), and each is charged with the forbidden packages that its own import loaded: a package loaded
by one module is never hidden, since the first module to load it is charged with it.
"""

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import analysis

ROOT = Path(__file__).resolve().parents[2]
# The analysis modules that may touch Flask or the database: every other one must not.
BOUND_TO_THE_APP = {"analysis.loader", "analysis.monitoring", "analysis.routes", "analysis.cli", "analysis.models",
                    "analysis.coding_store", "analysis.coding_routes", "analysis.findings_routes"}
# What the computing modules use from the rest of the app, which must stay as free.
SHARED = ["surveys.definition", "surveys.relevance", "surveys.repeats", "engagement.spreadsheets", "engagement.timestamps"]
COMPUTING = sorted(
    module.name for module in pkgutil.walk_packages(analysis.__path__, "analysis.")
    if module.name not in BOUND_TO_THE_APP
)
# Top-level packages a computing module must not load, even indirectly.
FORBIDDEN = ("flask", "flask_babel", "flask_login", "flask_sqlalchemy", "flask_wtf", "sqlalchemy", "werkzeug")
CHECK = """
import importlib, json, sys
modules, forbidden = json.loads(sys.argv[1])
loaded, charged = set(), {}
for module in modules:
    importlib.import_module(module)
    now = {name.split(".")[0] for name in sys.modules} & set(forbidden)
    charged[module] = sorted(now - loaded)
    loaded |= now
print(json.dumps(charged))
"""
CHECKED = ["analysis", *COMPUTING, *SHARED]


@pytest.fixture(scope="module")
def forbidden_imports() -> dict[str, list[str]]:
    """{module: the forbidden packages its import loaded}, for every checked module."""
    result = subprocess.run([sys.executable, "-c", CHECK, json.dumps([CHECKED, FORBIDDEN])], capture_output=True,
                            text=True, cwd=ROOT, check=True)
    return json.loads(result.stdout)


def test_the_computing_modules_are_found():
    assert {"analysis.frames", "analysis.summaries", "analysis.exports", "analysis.figures",
            "analysis.report.builder"} <= set(COMPUTING)


@pytest.mark.parametrize("module", CHECKED)
def test_module_imports_no_flask_and_no_sqlalchemy(module, forbidden_imports):
    assert forbidden_imports[module] == [], f"{module} imports {forbidden_imports[module]}"
