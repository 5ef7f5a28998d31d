# The embedded provider (included when the config has `world:`): the synthetic world's
# tokenizer, teacher and S0 under results/<experiment>/setup/, and their accuracy reports.
# `models:` paths left unset point at these outputs (read.providers).


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
        env_of("pretrain")
    threads: threads_of("pretrain")
    resources:
        **resources_of("pretrain"),
    params:
        role="teacher",
        model=world_model_params("teacher"),
        seed=config["world"]["seed"],
    script:
        "../scripts/pretrain.py"


use rule pretrain_teacher as pretrain_student with:
    output:
        directory("results/{exp}/setup/student0"),
    log:
        "results/{exp}/logs/setup/pretrain_student.log",
    benchmark:
        "results/{exp}/benchmarks/setup/pretrain_student.tsv"
    priority: 1
    params:
        role="student",
        model=world_model_params("student"),
        seed=config["world"]["seed"],


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
        env_of("score")
    threads: threads_of("score")
    resources:
        **resources_of("score"),
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
