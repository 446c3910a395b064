"""kernellab's Python side, in layers that import one way only:

    kl.io      files and errors: atomic writes, reading text, the one-line error exit
    kl.schema  report.json against reports/schema/ (python3-jsonschema)
    kl.model   what a benchmark means: the op table kl_bench records, each call's work, and
               the one ceiling rule (which measured ceiling applies, and how far above it a
               figure may sit before it is not believed)
    ----------------------------------------------------------------------------------------
    report.py, report_html.py, compare, profile   the report tools (import kl only)
    course/                                       the course tools (import kl, never the reverse)

The command-line scripts in scripts/ put scripts/ on sys.path and import from here."""
