"""Train the embedded world's BPE tokenizer on pretrain-split text (rule tokenizer)."""

from read.embedded.tokenizer import train_world_tokenizer
from read.runtime import job

with job(snakemake):
    cfg = snakemake.params.tokenizer
    train_world_tokenizer(snakemake.output[0], cfg["vocab_size"], cfg["corpus_per_capability"], snakemake.params.seed)
