"""Fit the template pool's difficulty scale once for the experiment (rule difficulty_scale)."""

import logging
import sys

try:
    from read.interval import difficulty_scale
except ImportError:  # TEMPORARY until read/interval.py lands: its proposed text is interim_interval.py
    sys.path.insert(0, snakemake.scriptdir)
    from interim_interval import difficulty_scale

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)
difficulty_scale(snakemake.output[0], n=snakemake.params.n, seed=snakemake.params.seed)
