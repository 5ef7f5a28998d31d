"""An empty token ledger for the run's budget B, profiling tokens recorded (rule init_ledger)."""

import logging
import sys

from read.io import write_json

try:
    from read.interval import init_ledger
except ImportError:  # TEMPORARY until read/interval.py lands: its proposed text is interim_interval.py
    sys.path.insert(0, snakemake.scriptdir)
    from interim_interval import init_ledger

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)
write_json(snakemake.output[0], init_ledger(snakemake.params.budget, snakemake.input.get("interventions")))
