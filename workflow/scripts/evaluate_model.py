"""S0's task score before any distillation (rule evaluate_s0)."""

import logging
import sys

from read.io import write_json

try:
    from read.interval import evaluate_model
except ImportError:  # TEMPORARY until read/interval.py lands: its proposed text is interim_interval.py
    sys.path.insert(0, snakemake.scriptdir)
    from interim_interval import evaluate_model

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)
p = snakemake.params
result = evaluate_model(snakemake.input.model, snakemake.input.tokenizer, task=p.task, evaluation=p.evaluation)
write_json(snakemake.output[0], result)
