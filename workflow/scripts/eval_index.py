"""The eval-leakage index: dev/test, gold eval and probe prompts (rule eval_index)."""

import logging

from read.capability_data import from_params
from read.config import EvaluationConfig
from read.io import write_json
from read.jobs import user_errors
from read.steps.setup import eval_index
from read.tasks import TaskCard

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)
with user_errors():
    p = snakemake.params
    cards = {name: TaskCard.from_mapping(name, card, f"task {name}") for name, card in p.tasks.items()}
    index = eval_index(snakemake.input.suite, tasks=cards, sources=from_params(p.capabilities),
                       evaluation=EvaluationConfig.from_dict(p.evaluation))
    write_json(snakemake.output[0], index)
