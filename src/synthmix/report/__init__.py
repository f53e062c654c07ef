"""The report: the seed's tables and figures from any study's results database, in one self-contained HTML file.

``synthmix.report.html.write_report(study)`` writes ``report.html`` with tables/ (CSV, Markdown, LaTeX)
and figures/ (PNG, SVG) beside it. Import submodules directly; matplotlib is imported only when drawing.
"""
