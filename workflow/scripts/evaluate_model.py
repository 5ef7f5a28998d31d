"""A model's task score and test-split profile before any distillation (rules evaluate_s0, evaluate_teacher)."""

from read.capability_data import from_params
from read.config import EvaluationConfig
from read.io import write_json
from read.runtime import job
from read.steps.common import ModelSettings
from read.steps.setup import evaluate_model
from read.tasks import TaskCard

with job(snakemake, model=True):  # a warm forked process on local runs; torch on this job's cores
    i, p = snakemake.input, snakemake.params
    card = TaskCard.from_params(p.card)
    result = evaluate_model(i.model, i.tokenizer, i.suite, card=card, sources=from_params(p.capabilities),
                            evaluation=EvaluationConfig.from_dict(p.evaluation), settings=ModelSettings.of(p.settings))
    write_json(snakemake.output[0], result)
