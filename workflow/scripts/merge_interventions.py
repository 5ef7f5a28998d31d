"""Concatenate the profiling-intervention shards of a task and seed, in shard order."""

from read.io import read_jsonl, write_jsonl
from read.runtime import job

with job(snakemake):
    write_jsonl(snakemake.output[0], (row for path in snakemake.input for row in read_jsonl(path)))
