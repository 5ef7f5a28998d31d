"""An empty token ledger for the run's budget B, profiling tokens recorded (rule init_ledger)."""

from read.io import write_json
from read.runtime import job
from read.steps.interval import init_ledger

with job(snakemake):
    write_json(snakemake.output[0], init_ledger(snakemake.params.budget, snakemake.input.get("interventions")))
