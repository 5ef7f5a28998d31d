"""Train the embedded world's BPE tokenizer on pretrain-split text (rule tokenizer)."""

import logging

from read.embedded.tokenizer import train_world_tokenizer

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)
cfg = snakemake.params.tokenizer
train_world_tokenizer(snakemake.output[0], cfg["vocab_size"], cfg["corpus_per_capability"], snakemake.params.seed)
