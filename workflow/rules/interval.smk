# One run = results/<experiment>/runs/{task}/{method}/B{budget}/seed{seed}/, a chain of
# per-interval targets. init/ holds the empty ledger and (bandit methods) the bandit
# pre-fit on the profiling interventions; interval k reads what interval k-1 wrote:
#   i{k}/allocation.json  w_k      <- policy(state_{k-1}, s_{k-1}, r_tau, ledger_{k-1})
#   i{k}/batch.jsonl      data     <- teacher on pool prompts sampled by w_k (+ manifest.json)
#   i{k}/student/         S_k      <- S_{k-1} trained on the batch (+ ledger.json)
#   i{k}/profile.json     s_k      <- probes(S_k); dev utility at calibration checkpoints
#   i{k}/bandit.json      state_k  <- reward(s_{k-1}, s_k, r_tau, cost) observed, refit
#                                     (adaptive bandit methods only)


rule init_ledger:
    input:
        unpack(init_ledger_inputs),
    output:
        f"{RUN}/init/ledger.json",
    log:
        f"{RUN_LOGS}/init_ledger.log",
    localrule: True
    conda:
        CPU_ENV
    params:
        budget=budget_params,
    script:
        "../scripts/init_ledger.py"


rule init_bandit:
    input:
        unpack(init_bandit_inputs),
    output:
        f"{RUN}/init/bandit.json",
    log:
        f"{RUN_LOGS}/init_bandit.log",
    localrule: True
    conda:
        CPU_ENV
    params:
        method="{method}",
        budget=budget_params,
        bandit=bandit_params,
        reward=reward_params,
        seed=seed_of,
    script:
        "../scripts/init_bandit.py"


rule allocate:
    input:
        unpack(allocate_inputs),
    output:
        f"{RUN}/i{{k}}/allocation.json",
    log:
        f"{RUN_LOGS}/i{{k}}/allocate.log",
    localrule: True
    conda:
        CPU_ENV
    params:
        method="{method}",
        k=k_of,
        bandit=bandit_params,
        reward=reward_params,
        seed=seed_of,
    script:
        "../scripts/allocate.py"


rule generate:
    input:
        unpack(teacher_inputs),
        allocation=f"{RUN}/i{{k}}/allocation.json",
        ledger=prev_ledger,
        student_tokenizer=MODELS.student_tokenizer,
        scale="results/{exp}/setup/difficulty_scale.json",
        index="results/{exp}/setup/eval_index.json",
        data=DATA_FILES,
    output:
        batch=f"{RUN}/i{{k}}/batch.jsonl",
        manifest=f"{RUN}/i{{k}}/manifest.json",
    log:
        f"{RUN_LOGS}/i{{k}}/generate.log",
    benchmark:
        f"{RUN_BENCHMARKS}/i{{k}}/generate.tsv"
    wildcard_constraints:
        method=_alternatives(m for m in METHODS if m not in TOPK_METHODS),
    conda:
        env_of("generate")
    threads: threads_of("generate")
    resources:
        **resources_of("generate"),
    params:
        k=k_of,
        n_intervals=N_INTERVALS,
        generation=generation_params,
        teacher=TEACHER,
        chat_template=STUDENT["chat_template"],
        capabilities=capability_data,
        probes=config["probes"],
        seed=seed_of,
    script:
        "../scripts/generate.py"


# A signal with top-k (read.signals) also writes the batch's teacher top-k, in binary.
use rule generate as generate_topk with:
    output:
        batch=f"{RUN}/i{{k}}/batch.jsonl",
        manifest=f"{RUN}/i{{k}}/manifest.json",
        topk=f"{RUN}/i{{k}}/batch.topk.npz",
    wildcard_constraints:
        method=_alternatives(TOPK_METHODS),


rule train:
    input:
        unpack(kd_inputs),
        base=MODELS.student,
        student=prev_student,
        batch=f"{RUN}/i{{k}}/batch.jsonl",
        manifest=f"{RUN}/i{{k}}/manifest.json",
        ledger=prev_ledger,
        tokenizer=MODELS.student_tokenizer,
    output:
        student=interval_checkpoint(f"{RUN}/i{{k}}/student"),
        ledger=f"{RUN}/i{{k}}/ledger.json",
    log:
        f"{RUN_LOGS}/i{{k}}/train.log",
    benchmark:
        f"{RUN_BENCHMARKS}/i{{k}}/train.tsv"
    conda:
        env_of("train")
    threads: threads_of("train")
    resources:
        **resources_of("train"),
    params:
        k=k_of,
        student=student_params,
        seed=seed_of,
    script:
        "../scripts/train.py"


# The last interval's student is the run's result: always kept (train may mark the others temp).
use rule train as train_final with:
    output:
        student=directory(f"{RUN}/i{{k}}/student"),
        ledger=f"{RUN}/i{{k}}/ledger.json",
    wildcard_constraints:
        k=str(N_INTERVALS),


ruleorder: train_final > train


rule probe:
    input:
        base=MODELS.student,
        model=f"{RUN}/i{{k}}/student",
        suite="results/{exp}/setup/probes.json",
        tokenizer=MODELS.student_tokenizer,
    output:
        f"{RUN}/i{{k}}/profile.json",
    log:
        f"{RUN_LOGS}/i{{k}}/probe.log",
    benchmark:
        f"{RUN_BENCHMARKS}/i{{k}}/probe.tsv"
    conda:
        env_of("score")
    threads: threads_of("score")
    resources:
        **resources_of("score"),
    params:
        batch_size=config["probes"]["batch_size"],
        settings=STUDENT_SETTINGS,
        dev=dev_params,
    script:
        "../scripts/probe.py"


rule update_bandit:
    input:
        bandit=prev_bandit,
        allocation=f"{RUN}/i{{k}}/allocation.json",
        prev_profile=prev_profile,
        profile=f"{RUN}/i{{k}}/profile.json",
        ledger=f"{RUN}/i{{k}}/ledger.json",
        r_tau="results/{exp}/setup/tasks/{task}/r_tau.json",
        initial="results/{exp}/setup/tasks/{task}/s0_eval.json",
    output:
        f"{RUN}/i{{k}}/bandit.json",
    log:
        f"{RUN_LOGS}/i{{k}}/update_bandit.log",
    localrule: True
    conda:
        CPU_ENV
    params:
        method="{method}",
        k=k_of,
        bandit=bandit_params,
        reward=reward_params,
        seed=seed_of,
    script:
        "../scripts/update_bandit.py"
