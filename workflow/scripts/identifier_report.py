"""Leave-one-task-out: each task's learned r_tau against its card (rule identifier_report)."""

from read.io import write_json, write_text
from read.runtime import job
from read.steps.identifier import identifier_report

with job(snakemake):
    truth = snakemake.params.truth
    rows, md = identifier_report(truth, {t: snakemake.input[t] for t in truth})
    write_json(snakemake.output.json, {"rows": rows})
    write_text(snakemake.output.md, md)
