"""Concatenate the profiling-intervention shards of a task and seed, in shard order."""

import logging

from read.io import read_jsonl, write_jsonl

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)
write_jsonl(snakemake.output[0], (row for path in snakemake.input for row in read_jsonl(path)))
