"""Greedy exact match per capability and task of the teacher or S0 (rule accuracy_report)."""

from read.embedded.report import accuracy_report
from read.io import write_json
from read.runtime import job

with job(snakemake, model=True):  # a warm forked process on local runs; torch on this job's cores
    cfg = snakemake.params.report
    report = accuracy_report(snakemake.input.model, snakemake.input.tokenizer,
                             cfg["n_per_capability"], snakemake.params.seed, batch_size=cfg["batch_size"])
    write_json(snakemake.output[0], report)
