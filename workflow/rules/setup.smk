# Shared setup targets under results/<experiment>/setup/, whichever provider made the
# models and data: the probe suite, s_0 (and the teacher's profile), r_tau, the difficulty
# scale, the eval-leakage index, S0's task score, and the profiling interventions that
# warm-start the bandit.


rule difficulty_scale:
    input:
        DATA_FILES,
    output:
        "results/{exp}/setup/difficulty_scale.json",
    log:
        "results/{exp}/logs/setup/difficulty_scale.log",
    localrule: True
    conda:
        CPU_ENV
    params:
        capabilities=capability_data,
        probes=config["probes"],
    script:
        "../scripts/difficulty_scale.py"


rule probe_suite:
    input:
        unpack(teacher_inputs),
        data=DATA_FILES,
    output:
        "results/{exp}/setup/probes.json",
    log:
        "results/{exp}/logs/setup/probe_suite.log",
    benchmark:
        "results/{exp}/benchmarks/setup/probe_suite.tsv"
    conda:
        env_of("generate")
    threads: threads_of("generate")
    resources:
        **resources_of("generate"),
    params:
        teacher=TEACHER,
        capabilities=capability_data,
        probes=config["probes"],
    script:
        "../scripts/probe_suite.py"


# Every task's dev/test prompts, every capability's gold eval prompts and every probe
# prompt: generation drops pool prompts that hit them (read.templates.leakage).
rule eval_index:
    input:
        suite="results/{exp}/setup/probes.json",
        data=DATA_FILES,
        tasks=all_task_files,
    output:
        "results/{exp}/setup/eval_index.json",
    log:
        "results/{exp}/logs/setup/eval_index.log",
    localrule: True
    conda:
        CPU_ENV
    params:
        tasks=all_task_cards,
        capabilities=capability_data,
        evaluation=config["evaluation"],
    script:
        "../scripts/eval_index.py"


rule probe_s0:
    input:
        base=MODELS.student,
        suite="results/{exp}/setup/probes.json",
        tokenizer=MODELS.student_tokenizer,
    output:
        "results/{exp}/setup/s0_profile.json",
    log:
        "results/{exp}/logs/setup/probe_s0.log",
    benchmark:
        "results/{exp}/benchmarks/setup/probe_s0.tsv"
    conda:
        env_of("score")
    threads: threads_of("score")
    resources:
        **resources_of("score"),
    params:
        batch_size=config["probes"]["batch_size"],
        settings=STUDENT_SETTINGS,
        dev=None,
    script:
        "../scripts/probe.py"


rule r_tau:
    input:
        unpack(r_tau_inputs),
    output:
        "results/{exp}/setup/tasks/{task}/r_tau.json",
    log:
        "results/{exp}/logs/setup/r_tau_{task}.log",
    localrule: True
    conda:
        CPU_ENV
    params:
        task="{task}",
        source=requirement_source,
        requirement=task_requirement,
        where=task_card_where,
    script:
        "../scripts/r_tau.py"


rule evaluate_s0:
    input:
        model=MODELS.student,
        tokenizer=MODELS.student_tokenizer,
        suite="results/{exp}/setup/probes.json",
        data=DATA_FILES,
        task=task_files,
    output:
        "results/{exp}/setup/tasks/{task}/s0_eval.json",
    log:
        "results/{exp}/logs/setup/evaluate_s0_{task}.log",
    benchmark:
        "results/{exp}/benchmarks/setup/evaluate_s0_{task}.tsv"
    conda:
        env_of("score")
    threads: threads_of("score")
    resources:
        **resources_of("score"),
    params:
        card=task_card,
        capabilities=capability_data,
        evaluation=config["evaluation"],
        settings=STUDENT_SETTINGS,
    script:
        "../scripts/evaluate_model.py"


# The teacher on the same test split as the students (Table 1's teacher row, the gap closed).
if MODELS.teacher:

    use rule evaluate_s0 as evaluate_teacher with:
        input:
            model=MODELS.teacher,
            tokenizer=MODELS.teacher_tokenizer,
            suite="results/{exp}/setup/probes.json",
            data=DATA_FILES,
            task=task_files,
        output:
            "results/{exp}/setup/tasks/{task}/teacher_eval.json",
        log:
            "results/{exp}/logs/setup/evaluate_teacher_{task}.log",
        benchmark:
            "results/{exp}/benchmarks/setup/evaluate_teacher_{task}.tsv"
        params:
            card=task_card,
            capabilities=capability_data,
            evaluation=config["evaluation"],
            settings=TEACHER_SETTINGS,


rule profile_interventions:
    input:
        unpack(teacher_inputs),
        student=MODELS.student,
        tokenizer=MODELS.student_tokenizer,
        suite="results/{exp}/setup/probes.json",
        s0_profile="results/{exp}/setup/s0_profile.json",
        r_tau="results/{exp}/setup/tasks/{task}/r_tau.json",
        scale="results/{exp}/setup/difficulty_scale.json",
        s0_eval="results/{exp}/setup/tasks/{task}/s0_eval.json",
        index="results/{exp}/setup/eval_index.json",
        data=DATA_FILES,
        task=task_files,
    output:
        "results/{exp}/setup/interventions/{task}/seed{seed}/T{size}/shard{shard}.jsonl",
    log:
        "results/{exp}/logs/setup/interventions/{task}/seed{seed}/T{size}/shard{shard}.log",
    benchmark:
        "results/{exp}/benchmarks/setup/interventions/{task}/seed{seed}/T{size}/shard{shard}.tsv"
    conda:
        env_of("train")
    threads: threads_of("train")
    resources:
        **resources_of("train"),
    params:
        card=task_card,
        seed=seed_of,
        shard=shard_of,
        n_shards=SHARDS,
        profiling=profiling_params,
        generation=config["generation"],
        student=STUDENT,
        teacher=TEACHER,
        capabilities=capability_data,
        probes=config["probes"],
        budget=config["budget"],
        evaluation=config["evaluation"],
    script:
        "../scripts/profile_interventions.py"


rule merge_interventions:
    input:
        interventions_shards,
    output:
        "results/{exp}/setup/interventions/{task}/seed{seed}/T{size}.jsonl",
    log:
        "results/{exp}/logs/setup/interventions/{task}/seed{seed}/T{size}/merge.log",
    localrule: True
    conda:
        CPU_ENV
    script:
        "../scripts/merge_interventions.py"


rule reward_validity:
    input:
        interventions="results/{exp}/setup/interventions/{task}/seed{seed}/T{size}.jsonl",
        r_tau="results/{exp}/setup/tasks/{task}/r_tau.json",
    output:
        "results/{exp}/setup/interventions/{task}/seed{seed}/T{size}.validity.json",
    log:
        "results/{exp}/logs/setup/interventions/{task}/seed{seed}/T{size}/validity.log",
    localrule: True
    conda:
        CPU_ENV
    params:
        reward=config["reward"],
        bandit=config["bandit"],
        interval_tokens=profiling_interval_tokens,
    script:
        "../scripts/reward_validity.py"
