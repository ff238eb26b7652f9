"""The collective analysis of a round as one report: ordered sections of suppressed tables, charts and method notes.

Pure: a RoundData (and optionally an earlier round's) plus filters and the suppression threshold give a Report;
nothing here touches Flask or the database, so the page, the CSV downloads, the self-contained HTML file and the
benchmark all build the same object. Sections follow DOMAIN.md's "Report contents"; each is left out when the survey
has nothing for it (a survey without importance/satisfaction pairs has no quadrant section), and questions no
section claims are shown by kind under "Other questions", so any survey gets a report.

User-visible text goes through ``_``, which calls the translation function given to ``build_report`` (Flask-Babel's
gettext from the routes; plain %-formatting elsewhere), so this package stays free of Flask and Babel's extractor
still finds every string.

model: the report's shape (Report, Section, Block, Table) and how cells are formatted; context: what every section
reads (the analysed answers, labels, the threshold and the suppression log); blocks: a question or grid drawn by
its kind; sections: the report's sections; builder: build_report, which puts them in order.
"""
