"""One shard of the profiling interventions of a task and seed (rule profile_interventions)."""

from read.budget import BudgetConfig
from read.capability_data import from_params
from read.config import EvaluationConfig, GenerationConfig, ProbesConfig, ProfilingConfig
from read.io import write_jsonl
from read.runtime import job
from read.steps.setup import profile_interventions
from read.students import StudentConfig
from read.tasks import TaskCard
from read.teachers import TeacherConfig

with job(snakemake, model=True):  # a warm forked process on local runs; torch on this job's cores
    p, i = snakemake.params, snakemake.input
    profiling = ProfilingConfig.from_dict(p.profiling)
    rows = profile_interventions(
        i.student, i.tokenizer, i.suite, i.s0_profile, i.r_tau, i.scale, i.s0_eval, i.index,
        card=TaskCard.from_params(p.card), seed=p.seed, shard=p.shard, n_shards=p.n_shards, profiling=profiling,
        generation=GenerationConfig.from_dict(p.generation), student=StudentConfig.from_dict(p.student),
        teacher=TeacherConfig.from_dict(p.teacher), sources=from_params(p.capabilities),
        probes=ProbesConfig.from_dict(p.probes), evaluation=EvaluationConfig.from_dict(p.evaluation),
        gen_fraction=BudgetConfig(total_tokens=profiling.tokens, **p.budget).gen_fraction, threads=snakemake.threads)
    write_jsonl(snakemake.output[0], rows)
