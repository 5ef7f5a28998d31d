"""Pretrain an embedded model from scratch (rules pretrain_teacher, pretrain_student)."""

import logging

from read.embedded.models import ModelSpec
from read.embedded.pretrain import PretrainConfig, pretrain
from read.jobs import model_job

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)
with model_job(snakemake):  # a warm forked process on local runs; torch on this job's cores
    model = snakemake.params.model
    spec = ModelSpec.from_dict(model["spec"], f"config world.{snakemake.params.role}.spec")
    cfg = PretrainConfig.from_dict({"threads": snakemake.threads, **model["pretrain"]})
    pretrain(snakemake.input.tokenizer, spec, cfg, snakemake.output[0], snakemake.params.seed)
