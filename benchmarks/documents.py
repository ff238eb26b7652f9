"""Time to build the report's Word and PDF files for a large round, as a ratio to the HTML report in the same run.

    python benchmarks/documents.py 10000            # generates /tmp/documents-10k.sqlite once, then measures
    python benchmarks/documents.py 10000 --fresh    # regenerate the database first

The database comes from benchmarks/report.py's generator (the demo round plus synthetic responses). One process,
one report: "report" is load_round + build_report; "HTML" renders the page's template from it; "Word" and "PDF"
build the files from the same report (charts drawn, tables written). Each file step is also shown with the report
build included, which is what a download costs when the report is not cached. Target: under 15 s for each file.
"""

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.report import app_for, generate


def measure(path: str) -> dict:
    from flask import render_template
    from flask_babel import gettext

    from analysis.loader import load_round
    from analysis.report.builder import build_report
    from analysis.report.model import translation
    from analysis.report.pdf import report_pdf
    from analysis.report.word import report_docx
    from engagement.extensions import db
    from surveys.models import Round

    app = app_for(path)
    with app.app_context(), app.test_request_context("/"):
        round_id = db.session.scalar(db.select(Round.id).order_by(Round.id))
        begin = time.perf_counter()
        report = build_report(load_round(db.session, round_id), gettext=gettext)
        timings = {"report": time.perf_counter() - begin}
        begin = time.perf_counter()
        page = render_template("analysis/report.html", layout="secretariat.html", standalone=True, report=report,
                               query={}, filter_labels=[])
        timings["HTML"] = time.perf_counter() - begin
        sizes = {"HTML": len(page.encode())}
        for name, writer in (("Word", report_docx), ("PDF", report_pdf)):
            begin = time.perf_counter()
            with translation(gettext):
                content = writer(report, "All partners")
            timings[name] = time.perf_counter() - begin
            sizes[name] = len(content)
        return {"timings": timings, "sizes": sizes, "respondents": report.respondents}


def main(argv: list[str]) -> None:
    count = int(argv[1]) if len(argv) > 1 else 10000
    path = f"/tmp/documents-{count // 1000}k.sqlite"
    if "--fresh" in argv or not Path(path).exists():
        generate(count, path)
    result = measure(path)
    t, s = result["timings"], result["sizes"]
    html_total = t["report"] + t["HTML"]
    print(f"{result['respondents']:,} respondents analysed")
    print(f"{'step':<8}{'alone s':>9}{'with report s':>15}{'ratio to HTML':>15}{'size KB':>10}")
    for name in ("HTML", "Word", "PDF"):
        total = t["report"] + t[name]
        print(f"{name:<8}{t[name]:>9.2f}{total:>15.2f}{total / html_total:>15.2f}{s[name] / 1024:>10.0f}")
    print(f"report build (load + analysis): {t['report']:.2f} s")


if __name__ == "__main__":
    main(sys.argv)
