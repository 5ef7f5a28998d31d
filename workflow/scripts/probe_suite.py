"""Teacher greedy responses on the probe prompts of every capability (rule probe_suite)."""

import logging
import sys

from read.io import write_json

try:
    from read.interval import probe_suite
except ImportError:  # TEMPORARY until read/interval.py lands: its proposed text is interim_interval.py
    sys.path.insert(0, snakemake.scriptdir)
    from interim_interval import probe_suite

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)
p = snakemake.params
suite = probe_suite(snakemake.input.teacher, snakemake.input.tokenizer, probes=p.probes, teacher=p.teacher)
write_json(snakemake.output[0], suite)
