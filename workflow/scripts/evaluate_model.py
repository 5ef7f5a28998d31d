"""S0's task score before any distillation (rule evaluate_s0)."""

import logging

from read.capability_data import from_params
from read.config import EvaluationConfig
from read.io import write_json
from read.jobs import model_job
from read.steps.setup import evaluate_model
from read.tasks import TaskCard

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)
with model_job(snakemake):  # a warm forked process on local runs; torch on this job's cores
    i, p = snakemake.input, snakemake.params
    card = TaskCard.from_params(p.card)
    result = evaluate_model(i.model, i.tokenizer, i.suite, card=card, sources=from_params(p.capabilities),
                            evaluation=EvaluationConfig.from_dict(p.evaluation), chat_template=p.chat_template)
    write_json(snakemake.output[0], result)
