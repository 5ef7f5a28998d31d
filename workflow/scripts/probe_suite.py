"""Teacher greedy responses on the probe prompts of every capability (rule probe_suite)."""

import logging

from read.interval import probe_suite
from read.io import write_json
from read.jobs import model_job

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)
with model_job(snakemake):  # a warm forked process on local runs; torch on this job's cores
    p = snakemake.params
    suite = probe_suite(snakemake.input.teacher, snakemake.input.tokenizer, probes=p.probes, teacher=p.teacher)
    write_json(snakemake.output[0], suite)
