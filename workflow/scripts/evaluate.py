"""final/eval.json: task score and capability profile after the last interval (rule evaluate)."""

import logging

from read.capability_data import from_params
from read.config import EvaluationConfig
from read.io import write_json
from read.jobs import model_job
from read.steps.evaluate import evaluate_run
from read.tasks import TaskCard

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)
with model_job(snakemake):  # a warm forked process on local runs; torch on this job's cores
    i, p = snakemake.input, snakemake.params
    card = TaskCard.from_params(p.card)
    result = evaluate_run(i.base, i.student, i.tokenizer, i.suite, i.ledger, i.initial, card=card,
                          sources=from_params(p.capabilities), evaluation=EvaluationConfig.from_dict(p.evaluation),
                          chat_template=p.chat_template, **p.run)
    write_json(snakemake.output[0], result)
