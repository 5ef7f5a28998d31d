# Shared setup targets under results/<experiment>/setup/: the embedded world's tokenizer,
# teacher and S0, their accuracy reports, the probe suite, s_0, r_tau, S0's task score,
# and the profiling interventions that warm-start the bandit.


rule tokenizer:
    output:
        directory("results/{exp}/setup/tokenizer"),
    log:
        "results/{exp}/logs/setup/tokenizer.log",
    localrule: True
    conda:
        CPU_ENV
    params:
        tokenizer=config["world"]["tokenizer"],
        seed=config["world"]["seed"],
    script:
        "../scripts/tokenizer.py"


# Both pretrainings take every core and every job waits for one of them. The priorities
# run the teacher (the longer) first and S0 straight after it, so the teacher's reports
# and probes share the cores with S0's jobs later instead of running beside an idle core.
rule pretrain_teacher:
    input:
        tokenizer="results/{exp}/setup/tokenizer",
    output:
        directory("results/{exp}/setup/teacher"),
    log:
        "results/{exp}/logs/setup/pretrain_teacher.log",
    benchmark:
        "results/{exp}/benchmarks/setup/pretrain_teacher.tsv"
    priority: 2
    conda:
        PRETRAIN_ENV
    threads: PRETRAIN_RES["threads"]
    resources:
        gpu=PRETRAIN_RES["gpu"],
        mem_mb=PRETRAIN_RES["mem_mb"],
        runtime=PRETRAIN_RES["runtime"],
    params:
        role="teacher",
        model=world_model_params("teacher"),
        seed=config["world"]["seed"],
    script:
        "../scripts/pretrain.py"


rule pretrain_student:
    input:
        tokenizer="results/{exp}/setup/tokenizer",
    output:
        directory("results/{exp}/setup/student0"),
    log:
        "results/{exp}/logs/setup/pretrain_student.log",
    benchmark:
        "results/{exp}/benchmarks/setup/pretrain_student.tsv"
    priority: 1
    conda:
        PRETRAIN_ENV
    threads: PRETRAIN_RES["threads"]
    resources:
        gpu=PRETRAIN_RES["gpu"],
        mem_mb=PRETRAIN_RES["mem_mb"],
        runtime=PRETRAIN_RES["runtime"],
    params:
        role="student",
        model=world_model_params("student"),
        seed=config["world"]["seed"],
    script:
        "../scripts/pretrain.py"


rule accuracy_report:
    input:
        model=model_dir,
        tokenizer="results/{exp}/setup/tokenizer",
    output:
        "results/{exp}/setup/accuracy/{model}.json",
    log:
        "results/{exp}/logs/setup/accuracy_{model}.log",
    benchmark:
        "results/{exp}/benchmarks/setup/accuracy_{model}.tsv"
    conda:
        MODEL_ENV
    threads: MODEL_RES["threads"]
    resources:
        gpu=MODEL_RES["gpu"],
        mem_mb=MODEL_RES["mem_mb"],
        runtime=MODEL_RES["runtime"],
    params:
        report=config["world"]["report"],
        seed=config["world"]["seed"],
    script:
        "../scripts/accuracy_report.py"


# Are the world's preconditions met (science.md)? Teacher >= 40% on each composite task,
# S0 middling on each component, S0 below the teacher everywhere: a table, not a gate.
rule preconditions:
    input:
        teacher="results/{exp}/setup/accuracy/teacher.json",
        student="results/{exp}/setup/accuracy/student0.json",
    output:
        json="results/{exp}/setup/accuracy/preconditions.json",
        md="results/{exp}/setup/accuracy/preconditions.md",
    log:
        "results/{exp}/logs/setup/preconditions.log",
    localrule: True
    conda:
        CPU_ENV
    script:
        "../scripts/preconditions.py"


rule probe_suite:
    input:
        teacher="results/{exp}/setup/teacher",
        tokenizer="results/{exp}/setup/tokenizer",
    output:
        "results/{exp}/setup/probes.json",
    log:
        "results/{exp}/logs/setup/probe_suite.log",
    benchmark:
        "results/{exp}/benchmarks/setup/probe_suite.tsv"
    conda:
        MODEL_ENV
    threads: MODEL_RES["threads"]
    resources:
        gpu=MODEL_RES["gpu"],
        mem_mb=MODEL_RES["mem_mb"],
        runtime=MODEL_RES["runtime"],
    params:
        probes=config["probes"],
        teacher=config["teacher"],
    script:
        "../scripts/probe_suite.py"


rule probe_s0:
    input:
        base="results/{exp}/setup/student0",
        suite="results/{exp}/setup/probes.json",
        tokenizer="results/{exp}/setup/tokenizer",
    output:
        "results/{exp}/setup/s0_profile.json",
    log:
        "results/{exp}/logs/setup/probe_s0.log",
    benchmark:
        "results/{exp}/benchmarks/setup/probe_s0.tsv"
    conda:
        MODEL_ENV
    threads: MODEL_RES["threads"]
    resources:
        gpu=MODEL_RES["gpu"],
        mem_mb=MODEL_RES["mem_mb"],
        runtime=MODEL_RES["runtime"],
    params:
        batch_size=config["probes"]["batch_size"],
        dev=None,
    script:
        "../scripts/probe.py"


rule probe_teacher:
    input:
        base="results/{exp}/setup/teacher",
        suite="results/{exp}/setup/probes.json",
        tokenizer="results/{exp}/setup/tokenizer",
    output:
        "results/{exp}/setup/teacher_profile.json",
    log:
        "results/{exp}/logs/setup/probe_teacher.log",
    benchmark:
        "results/{exp}/benchmarks/setup/probe_teacher.tsv"
    conda:
        MODEL_ENV
    threads: MODEL_RES["threads"]
    resources:
        gpu=MODEL_RES["gpu"],
        mem_mb=MODEL_RES["mem_mb"],
        runtime=MODEL_RES["runtime"],
    params:
        batch_size=config["probes"]["batch_size"],
        dev=None,
    script:
        "../scripts/probe.py"


rule r_tau:
    output:
        "results/{exp}/setup/tasks/{task}/r_tau.json",
    log:
        "results/{exp}/logs/setup/r_tau_{task}.log",
    localrule: True
    conda:
        CPU_ENV
    params:
        task="{task}",
        requirement=task_requirement,
        where=task_card_where,
    script:
        "../scripts/r_tau.py"


rule evaluate_s0:
    input:
        model="results/{exp}/setup/student0",
        tokenizer="results/{exp}/setup/tokenizer",
    output:
        "results/{exp}/setup/tasks/{task}/s0_eval.json",
    log:
        "results/{exp}/logs/setup/evaluate_s0_{task}.log",
    benchmark:
        "results/{exp}/benchmarks/setup/evaluate_s0_{task}.tsv"
    conda:
        MODEL_ENV
    threads: MODEL_RES["threads"]
    resources:
        gpu=MODEL_RES["gpu"],
        mem_mb=MODEL_RES["mem_mb"],
        runtime=MODEL_RES["runtime"],
    params:
        task="{task}",
        evaluation=config["evaluation"],
    script:
        "../scripts/evaluate_model.py"


rule profile_interventions:
    input:
        teacher="results/{exp}/setup/teacher",
        student="results/{exp}/setup/student0",
        tokenizer="results/{exp}/setup/tokenizer",
        suite="results/{exp}/setup/probes.json",
        s0_profile="results/{exp}/setup/s0_profile.json",
        r_tau="results/{exp}/setup/tasks/{task}/r_tau.json",
        scale="results/{exp}/setup/difficulty_scale.json",
        s0_eval="results/{exp}/setup/tasks/{task}/s0_eval.json",
    output:
        "results/{exp}/setup/interventions/{task}/seed{seed}/shard{shard}.jsonl",
    log:
        "results/{exp}/logs/setup/interventions/{task}/seed{seed}/shard{shard}.log",
    benchmark:
        "results/{exp}/benchmarks/setup/interventions/{task}/seed{seed}/shard{shard}.tsv"
    conda:
        MODEL_ENV
    threads: MODEL_RES["threads"]
    resources:
        gpu=MODEL_RES["gpu"],
        mem_mb=MODEL_RES["mem_mb"],
        runtime=MODEL_RES["runtime"],
    params:
        task="{task}",
        seed=seed_of,
        shard=shard_of,
        n_shards=SHARDS,
        profiling=config["profiling"],
        generation=config["generation"],
        student=config["student"],
        teacher=config["teacher"],
        budget=config["budget"],
        evaluation=config["evaluation"],
        batch_size=config["probes"]["batch_size"],
    script:
        "../scripts/profile_interventions.py"


rule merge_interventions:
    input:
        interventions_shards,
    output:
        "results/{exp}/setup/interventions/{task}/seed{seed}.jsonl",
    log:
        "results/{exp}/logs/setup/interventions/{task}/seed{seed}/merge.log",
    localrule: True
    conda:
        CPU_ENV
    script:
        "../scripts/merge_interventions.py"


rule reward_validity:
    input:
        interventions="results/{exp}/setup/interventions/{task}/seed{seed}.jsonl",
        r_tau="results/{exp}/setup/tasks/{task}/r_tau.json",
    output:
        "results/{exp}/setup/interventions/{task}/seed{seed}.validity.json",
    log:
        "results/{exp}/logs/setup/interventions/{task}/seed{seed}/validity.log",
    localrule: True
    conda:
        CPU_ENV
    params:
        reward=config["reward"],
        interval_tokens=profiling_interval_tokens,
    script:
        "../scripts/reward_validity.py"


rule difficulty_scale:
    output:
        "results/{exp}/setup/difficulty_scale.json",
    log:
        "results/{exp}/logs/setup/difficulty_scale.log",
    localrule: True
    conda:
        CPU_ENV
    params:
        n=256,
        seed=config["world"]["seed"],
    script:
        "../scripts/difficulty_scale.py"
