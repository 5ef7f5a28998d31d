"""final/eval.json: task score and test-split profile after the last interval (rule evaluate)."""

import logging

from read.interval import evaluate_run
from read.io import write_json
from read.jobs import model_job

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)
with model_job(snakemake):  # a warm forked process on local runs; torch on this job's cores
    i = snakemake.input
    result = evaluate_run(i.base, i.student, i.tokenizer, i.ledger, i.initial, **snakemake.params.run,
                          evaluation=snakemake.params.evaluation)
    write_json(snakemake.output[0], result)
