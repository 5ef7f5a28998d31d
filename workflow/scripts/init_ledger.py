"""An empty token ledger for the run's budget B, profiling tokens recorded (rule init_ledger)."""

import logging

from read.interval import init_ledger
from read.io import write_json

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)
write_json(snakemake.output[0], init_ledger(snakemake.params.budget, snakemake.input.get("interventions")))
