"""The eval-leakage index: dev/test, gold eval and probe prompts (rule eval_index)."""

from read.capability_data import from_params
from read.config import EvaluationConfig
from read.io import write_json
from read.runtime import job
from read.steps.setup import eval_index
from read.tasks import TaskCard

with job(snakemake):
    p = snakemake.params
    cards = {name: TaskCard.from_mapping(name, card, f"task {name}") for name, card in p.tasks.items()}
    index = eval_index(snakemake.input.suite, tasks=cards, sources=from_params(p.capabilities),
                       evaluation=EvaluationConfig.from_dict(p.evaluation))
    write_json(snakemake.output[0], index)
