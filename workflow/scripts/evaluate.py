"""final/eval.json: task score and capability profile after the last interval (rule evaluate)."""

from read.capability_data import from_params
from read.config import EvaluationConfig
from read.io import write_json
from read.runtime import job
from read.steps.common import ModelSettings
from read.steps.evaluate import evaluate_run
from read.tasks import TaskCard

with job(snakemake, model=True):  # a warm forked process on local runs; torch on this job's cores
    i, p = snakemake.input, snakemake.params
    card = TaskCard.from_params(p.card)
    result = evaluate_run(i.base, i.student, i.tokenizer, i.suite, i.ledger, i.initial, card=card,
                          sources=from_params(p.capabilities), evaluation=EvaluationConfig.from_dict(p.evaluation),
                          settings=ModelSettings.of(p.settings), **p.run)
    write_json(snakemake.output[0], result)
