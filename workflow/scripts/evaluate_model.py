"""S0's task score before any distillation (rule evaluate_s0)."""

import logging

from read.interval import evaluate_model
from read.io import write_json
from read.jobs import model_job

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)
with model_job(snakemake):  # a warm forked process on local runs; torch on this job's cores
    p = snakemake.params
    result = evaluate_model(snakemake.input.model, snakemake.input.tokenizer, task=p.task, evaluation=p.evaluation)
    write_json(snakemake.output[0], result)
