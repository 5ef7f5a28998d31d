"""Fit the template pool's difficulty scale once for the experiment (rule difficulty_scale)."""

import logging

from read.interval import difficulty_scale

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)
difficulty_scale(snakemake.output[0], n=snakemake.params.n, seed=snakemake.params.seed)
