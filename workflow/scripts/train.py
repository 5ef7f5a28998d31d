"""S_k: S_{k-1} trained on interval k's batch within the train-token share (rule train)."""

import logging
import sys

from read.io import write_json

try:
    from read.interval import train_interval
except ImportError:  # TEMPORARY until read/interval.py lands: its proposed text is interim_interval.py
    sys.path.insert(0, snakemake.scriptdir)
    from interim_interval import train_interval

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)
p, i, o = snakemake.params, snakemake.input, snakemake.output
ledger = train_interval(i.base, i.student, i.batch, i.manifest, i.ledger, i.tokenizer, o.student, k=p.k,
                        student=p.student, seed=p.seed, threads=snakemake.threads)
write_json(o.ledger, ledger)
