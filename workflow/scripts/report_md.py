"""REPORT.md: every table and figure under its caption, and the proxy reward's validity per task."""

from read.aggregate.document import write_report
from read.runtime import job

with job(snakemake):
    i, p = snakemake.input, snakemake.params
    write_report(snakemake.output[0], experiment=p.experiment, tables=i.tables, captions=i.captions,
                 figures=i.figures, validity=[(task, seed, f) for (task, seed), f in zip(p.validity, i.validity)],
                 validity_caption=i.validity_caption if "validity_caption" in i.keys() else None)
