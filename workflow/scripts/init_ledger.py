"""An empty token ledger for the run's budget B, profiling tokens recorded (rule init_ledger)."""

import logging

from read.io import write_json
from read.jobs import user_errors
from read.steps.interval import init_ledger

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)
with user_errors():
    write_json(snakemake.output[0], init_ledger(snakemake.params.budget, snakemake.input.get("interventions")))
