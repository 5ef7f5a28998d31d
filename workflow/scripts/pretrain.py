"""Pretrain an embedded model from scratch (rules pretrain_teacher, pretrain_student)."""

from read.embedded.models import ModelSpec
from read.embedded.pretrain import PretrainConfig, pretrain
from read.runtime import job

with job(snakemake, model=True):  # a warm forked process on local runs; torch on this job's cores
    model = snakemake.params.model
    spec = ModelSpec.from_dict(model["spec"], f"config world.{snakemake.params.role}.spec")
    cfg = PretrainConfig.from_dict({"threads": snakemake.threads, **model["pretrain"]})
    pretrain(snakemake.input.tokenizer, spec, cfg, snakemake.output[0], snakemake.params.seed)
