"""kernellab's Python side, in layers that import one way only (each module imports only
modules listed above it):

    kl.io        files and errors: atomic writes, reading text, the one-line error exit
    kl.schema    report.json against reports/schema/ (python3-jsonschema)
    kl.model     what a benchmark means: the op table kl_bench records, each call's work, and
                 the one ceiling rule (which measured ceiling applies, and how far above it a
                 figure may sit before it is not believed)
    kl.text      figures in words: a dash for none, percents, x-ratios, sizes, target cases
    kl.targets   the course targets (TARGETS) and the same-run ratios they read: x BLIS,
                 x OpenBLAS, x the faster peer, % of copy
    kl.report    report.json from a kl_bench run (bench.json) and scripts/profile's memory.json
    kl.markdown  report.md and report.py's summary table
    kl.series    what report.html shows, picked from a report: results, variants, ceilings,
                 the roofline's points, the ladder's rows
    kl.plots     report.html's plots (matplotlib, as PNG data URIs)
    kl.sections  report.html's parts as HTML: tables, figures, one function per section
    kl.page      report.html: loading and checking report.json, and the page itself
    ----------------------------------------------------------------------------------------
    report.py, report_html.py, validate_report.py,   the report tools (import kl only; the first
    compare, profile                                 three are argparse and a call into kl)
    course/                                          the course tools (import kl, never the reverse)

The command-line scripts in scripts/ put scripts/ on sys.path and import from here; none
imports another script."""
