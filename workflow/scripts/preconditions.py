"""The embedded world's preconditions per task, from the teacher and S0 accuracy reports (rule preconditions)."""

import logging

from read.embedded.report import preconditions, preconditions_table
from read.io import read_json, write_json, write_text
from read.runtime import job

with job(snakemake):
    pre = preconditions(read_json(snakemake.input.teacher), read_json(snakemake.input.student))
    write_json(snakemake.output.json, pre)
    write_text(snakemake.output.md, preconditions_table(pre))
    logging.info("preconditions %s", "met" if pre["ok"] else "NOT met: see %s" % snakemake.output.md)
