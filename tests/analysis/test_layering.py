"""The analysis's computing modules import neither Flask nor SQLAlchemy: frames in, tables, figures and files out.

Only the loader (SQL -> frames), the monitoring queries, the pages and the commands touch Flask and the database.
Each module is imported alone in a fresh interpreter, so what another test imported cannot hide a dependency.
"""

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
import importlib, sys
importlib.import_module(sys.argv[1])
print(" ".join(sorted({name.split(".")[0] for name in sys.modules} & set(sys.argv[2:]))))
"""


def test_the_computing_modules_are_found():
    assert {"analysis.frames", "analysis.summaries", "analysis.exports", "analysis.figures",
            "analysis.report.builder"} <= set(COMPUTING)


@pytest.mark.parametrize("module", ["analysis", *COMPUTING, *SHARED])
def test_module_imports_no_flask_and_no_sqlalchemy(module):
    result = subprocess.run([sys.executable, "-c", CHECK, module, *FORBIDDEN], capture_output=True, text=True,
                            cwd=ROOT, check=True)
    assert result.stdout.split() == [], f"{module} imports {result.stdout.split()}"
