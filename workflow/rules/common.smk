# Config validation, the providers, wildcard constraints, path helpers and every input
# function. Rules only name these functions; no rule holds a lambda or builds a path by hand.
import os
import re
import sys

from snakemake.utils import validate

from read.aggregate.report import ARTEFACT_OPTIONS, ARTEFACTS, REQUIRED_OPTIONS
from read.budget import BudgetConfig
from read.capability_data import check_sources, resolve_sources
from read.config import ProfilingConfig, check_config, with_base
from read.errors import ReadError
from read.grid import axis_values, task_seeds
from read.grid import expand as expand_grid
from read.plan import is_dry_run, plan
from read.methods import method_generation, method_student
from read.policies import make_policy, method_config
from read.providers import check_models, resolve_models
from read.reward import RewardConfig
from read.signals import records_topk
from read.steps.common import ModelSettings
from read.tasks import load_task_cards

if "teacher" in config or "student" in config:
    sys.exit(
        "config: top-level `teacher:` and `student:` are now `models: {teacher: ..., student: ...}`; move them there"
    )
if "model" in config.get("resources", {}):
    sys.exit(
        "config resources.model: split into resources.generate, resources.train and resources.score; rename it"
    )

# One line naming the first bad key; then Snakemake's validation fills in the defaults.
try:
    _merged = with_base(config)  # `extends: <config file>`: this config over that one
    config.clear()
    config.update(_merged)
    check_config(config)
except ReadError as err:
    sys.exit(str(err))
validate(config, schema="../schemas/config.schema.yaml")

EXP = config["experiment"]
# every run of the grid: the top-level block and the `grids:` blocks (read.grid)
RUNS = expand_grid(config)
TASKS = axis_values(RUNS, "task")
# the learned requirement identifier trains on these tasks' interventions (identifier.smk)
IDENTIFIER_TASKS = list(config["identifier"]["tasks"]) or TASKS
ALL_TASKS = TASKS + [t for t in IDENTIFIER_TASKS if t not in TASKS]
METHODS = axis_values(RUNS, "method")
BUDGETS = axis_values(RUNS, "budget")
SEEDS = axis_values(RUNS, "seed")
N_INTERVALS = BudgetConfig.intervals(config["budget"])
PROFILING = ProfilingConfig.from_dict(config["profiling"])
SHARDS = PROFILING.shards
SETUP = f"results/{EXP}/setup"
# The embedded world is one provider: with `world:` its setup rules (world.smk) build the
# tokenizer, teacher and S0, and every model path left unset in `models:` points at them.
WORLD = "world" in config


def _providers():
    """Models, task cards, capability data and policies, each checked before any job runs.
    Bad input ends the run here with one line naming the key or file:line and the fix.
    """
    try:
        teacher, student, paths = resolve_models(
            config["models"], world_setup=SETUP if WORLD else None
        )
        teacher, student = teacher.to_dict(), student.to_dict()
        check_models(paths)
        cards = load_task_cards(config["task_cards"], ALL_TASKS)
        sources = resolve_sources(config["capabilities"], world=WORLD)
        check_sources(
            sources, config["probes"]["n_per_capability"], config["probes"]["seed"]
        )
        policies = {m: make_policy(m) for m in METHODS}
        generation = {m: method_generation(m, config["generation"]) for m in METHODS}
    except ReadError as err:
        sys.exit(str(err))
    return teacher, student, paths, cards, sources, policies, generation


TEACHER, STUDENT, MODELS, TASK_CARDS, SOURCES, POLICIES, GENERATION = _providers()
# methods whose batches carry the teacher's top-k (a batch.topk.npz sidecar, read.signals)
TOPK_METHODS = [m for m in METHODS if records_topk(GENERATION[m]["signal"])]
USES_IDENTIFIER = (
    "read_learned" in METHODS
    or config["identifier"]["leave_one_out"]
    or any(TASK_CARDS[t].requirement_source == "learned" for t in TASKS)
)
# how scoring jobs load each model: prompt format, device, dtype (read.steps.common.ModelSettings)
TEACHER_SETTINGS = ModelSettings.of(TEACHER).to_dict()
STUDENT_SETTINGS = ModelSettings.of(STUDENT).to_dict()
if is_dry_run(sys.argv):  # the estimate before anything is generated or trained
    print(plan(config, setup=SETUP).summary(), file=sys.stderr)
# Bandit methods pre-fit the bandit on the profiling interventions (init/bandit.json);
# adaptive ones also refit it after every interval (i{k}/bandit.json). The other methods
# never see a reward, so reward/bandit edits leave their runs alone.
BANDIT_METHODS = [m for m, p in POLICIES.items() if p.uses_bandit]
ADAPTIVE_METHODS = [m for m, p in POLICIES.items() if p.adapts]
DATA_FILES = sorted({f for src in SOURCES.values() for f in src.files()})

CPU_ENV = "../../envs/cpu.yaml"
GPU_ENV = "../../envs/gpu.yaml"


# ---- resource classes: pretrain, generate, train, score (cheap rules are localrules) ---


def env_of(kind):
    """The GPU environment (vllm) only for classes that get a GPU."""
    return GPU_ENV if config["resources"][kind]["gpu"] > 0 else CPU_ENV


def threads_of(kind):
    return config["resources"][kind]["threads"]


def runtime_of(kind):
    """Minutes, times the attempt: a retry after a TIMEOUT (--retries) gets more time."""
    minutes = config["resources"][kind]["runtime"]

    def runtime(wildcards, attempt):
        return minutes * attempt

    return runtime


def resources_of(kind):
    """A class's scheduler request. GPU classes also get the site's GPU partition and model
    (READ_SLURM_GPU_PARTITION, READ_SLURM_GPU_MODEL: the environment, never the rules), so
    no job with gpu: 0 lands on the GPU partition or asks for --gpus=<model>:0."""
    res = config["resources"][kind]
    out = {"gpu": res["gpu"], "mem_mb": res["mem_mb"], "runtime": runtime_of(kind)}
    if res["gpu"] > 0:
        if res["cpus_per_gpu"]:
            out["cpus_per_gpu"] = res["cpus_per_gpu"]
        for name, var in (
            ("slurm_partition", "READ_SLURM_GPU_PARTITION"),
            ("gpu_model", "READ_SLURM_GPU_MODEL"),
        ):
            if os.environ.get(var):
                out[name] = os.environ[var]
    return out


def _alternatives(values):
    """A regex matching exactly these values (none: a regex that matches nothing)."""
    return "|".join(re.escape(str(v)) for v in values) or "(?!)"


wildcard_constraints:
    exp=re.escape(EXP),
    task=_alternatives(ALL_TASKS),
    method=_alternatives(METHODS),
    budget=r"\d+",
    seed=r"\d+",
    k=r"[1-9]\d*",
    shard=r"\d+",
    size=r"\d+",
    model="teacher|student0",


# ---- path helpers ------------------------------------------------------------------


def setup_path(name):
    """results/<experiment>/setup/<name>."""
    return f"{SETUP}/{name}"


# One run's folders; rules add i{k}/<file> (f-strings keep the wildcards' braces).
RUN = "results/{exp}/runs/{task}/{method}/B{budget}/seed{seed}"
RUN_LOGS = "results/{exp}/logs/runs/{task}/{method}/B{budget}/seed{seed}"
RUN_BENCHMARKS = "results/{exp}/benchmarks/runs/{task}/{method}/B{budget}/seed{seed}"


def profiling_size(budget):
    """Tokens per profiling intervention for the runs of budget B (read.config)."""
    return PROFILING.size_for(config["budget"], budget)


# every intervention size the grid's budgets need; the identifier trains on all of them
PROFILING_SIZES = sorted({profiling_size(b) for b in BUDGETS})


def interventions_path(task, seed, size, ext=".jsonl"):
    """A task's and seed's profiling interventions of one size (+ .validity.json)."""
    return setup_path(f"interventions/{task}/seed{seed}/T{size}{ext}")


def profiling_runs():
    """(task, seed, size) of every intervention set a bandit run of the grid starts from."""
    return list(
        dict.fromkeys(
            (r.task, r.seed, profiling_size(r.budget))
            for r in RUNS
            if is_bandit_method(r.method)
        )
    )


def run_dir(wildcards):
    """RUN for these wildcards."""
    w = wildcards
    return RUN.format(
        exp=EXP, task=w.task, method=w.method, budget=w.budget, seed=w.seed
    )


def _before(wildcards, name):
    """``name`` from interval k-1 of this run, or from the run's init/ folder for k = 1."""
    k = int(wildcards.k)
    return f"{run_dir(wildcards)}/{'init' if k == 1 else f'i{k - 1}'}/{name}"


def is_bandit_method(method):
    return method in BANDIT_METHODS


def is_adaptive(method):
    return method in ADAPTIVE_METHODS


# ---- targets -----------------------------------------------------------------------


def setup_targets():
    """Everything shared by the runs: probe suite, s_0, r_tau, eval index, profiling (and
    the embedded provider's models and reports)."""
    targets = world_targets() if WORLD else []
    targets += [
        setup_path("probes.json"),
        setup_path("s0_profile.json"),
        setup_path("difficulty_scale.json"),
        setup_path("eval_index.json"),
    ]
    if USES_IDENTIFIER:
        targets += identifier_targets()
    for task in TASKS:
        targets.append(setup_path(f"tasks/{task}/r_tau.json"))
        targets.append(setup_path(f"tasks/{task}/s0_eval.json"))
        if MODELS.teacher:
            targets.append(setup_path(f"tasks/{task}/teacher_eval.json"))
    for task, seed, size in profiling_runs():
        targets += [
            interventions_path(task, seed, size, ext)
            for ext in (".jsonl", ".validity.json")
        ]
    return targets


def run_targets():
    """final/eval.json of every run in the grid (read.grid)."""
    return [
        f"{RUN}/final/eval.json".format(
            exp=EXP, task=r.task, method=r.method, budget=r.budget, seed=r.seed
        )
        for r in RUNS
    ]


def table_targets():
    """Every table (csv, md, tex) and figure (png, pdf) config `tables` asks for."""
    targets = []
    for name in ARTEFACT_NAMES:
        targets += [
            f"results/{EXP}/tables/{name}.{ext}" for ext in ("csv", "md", "tex")
        ]
        if ARTEFACTS[name][1]:
            targets += [f"results/{EXP}/plots/{name}.{ext}" for ext in ("png", "pdf")]
    return targets


def final_targets():
    return setup_targets() + run_targets() + table_targets() + report_targets()


# ---- the embedded provider (world.smk) ------------------------------------------------


def world_targets():
    return [
        setup_path("accuracy/teacher.json"),
        setup_path("accuracy/student0.json"),
        setup_path("accuracy/preconditions.md"),
    ]


def world_model_params(role):
    """Architecture + pretraining config of the embedded teacher or student."""
    return {
        "spec": config["world"][role]["spec"],
        "pretrain": config["world"][role]["pretrain"],
    }


def model_dir(wildcards):
    """The checkpoint an accuracy report is about: setup/teacher or setup/student0."""
    return setup_path(wildcards.model)


# ---- models and data -----------------------------------------------------------------


def teacher_inputs(wildcards):
    """The teacher's local files: checkpoint and tokenizer (a served teacher may have neither)."""
    files = {"teacher": MODELS.teacher, "teacher_tokenizer": MODELS.teacher_tokenizer}
    return {name: path for name, path in files.items() if path}


def task_files(wildcards):
    """The task's local split files (none for an embedded task)."""
    return TASK_CARDS[wildcards.task].files()


def all_task_files(wildcards):
    return sorted({f for card in TASK_CARDS.values() for f in card.files()})


def task_card(wildcards):
    """The task's card as plain values (read.tasks.TaskCard.to_dict) plus its name."""
    return {"name": wildcards.task, **TASK_CARDS[wildcards.task].to_dict()}


def all_task_cards(wildcards):
    return {t: TASK_CARDS[t].to_dict() for t in TASKS}


def capability_data(wildcards):
    """Every capability's pool, probe and eval source (read.capability_data)."""
    return {c: src.to_dict() for c, src in SOURCES.items()}


def task_requirement(wildcards):
    return TASK_CARDS[wildcards.task].requirement


def requirement_source(wildcards):
    return TASK_CARDS[wildcards.task].requirement_source


def r_tau_inputs(wildcards):
    """A learned requirement reads the identifier (the card's, or the workflow's own) and the embeddings."""
    card = TASK_CARDS[wildcards.task]
    if card.requirement_source != "learned":
        return {}
    return {
        "identifier": card.identifier or identifier_for(wildcards.task),
        "embeddings": setup_path("identifier/cards.json"),
    }


# ---- the learned requirement identifier (identifier.smk) ---------------------------


def identifier_targets():
    targets = [setup_path(f"tasks/{t}/r_tau_learned.json") for t in TASKS]
    if config["identifier"]["leave_one_out"]:
        targets += [setup_path(f"identifier/report.{ext}") for ext in ("json", "md")]
    return targets


def identifier_for(task):
    """The g_phi that predicts ``task``: one trained without it (leave_one_out), else on all."""
    if config["identifier"]["leave_one_out"]:
        return setup_path(f"identifier/without_{task}")
    return setup_path("identifier/all")


def identifier_training_tasks(variant):
    """``all`` trains on every identifier task, ``without_<task>`` on the others."""
    held_out = variant.removeprefix("without_") if variant != "all" else None
    return [t for t in IDENTIFIER_TASKS if t != held_out]


def identifier_interventions(wildcards):
    """Every seed's and every intervention size's records of each training task."""
    return {
        t: [interventions_path(t, s, size) for s in SEEDS for size in PROFILING_SIZES]
        for t in identifier_training_tasks(wildcards.variant)
    }


def identifier_tasks_of(wildcards):
    return identifier_training_tasks(wildcards.variant)


def encoder_inputs(wildcards):
    """The frozen card encoder: `identifier.encoder`, else (world) the embedded teacher."""
    ident = config["identifier"]
    if ident["encoder"]:
        return {
            "encoder": ident["encoder"],
            "tokenizer": ident["tokenizer"] or ident["encoder"],
        }
    if WORLD:
        return {"encoder": setup_path("teacher"), "tokenizer": setup_path("tokenizer")}
    sys.exit(
        "config identifier.encoder: the learned identifier needs a text encoder; set it to a local HF model directory"
    )


def identifier_cards(wildcards):
    return {t: TASK_CARDS[t].to_dict() for t in ALL_TASKS}


def learned_requirement_inputs(wildcards):
    return {
        "identifier": identifier_for(wildcards.task),
        "embeddings": setup_path("identifier/cards.json"),
    }


def identifier_report_inputs(wildcards):
    return {t: setup_path(f"tasks/{t}/r_tau_learned.json") for t in IDENTIFIER_TASKS}


def identifier_truth(wildcards):
    return {t: TASK_CARDS[t].requirement for t in IDENTIFIER_TASKS}


def task_card_where(wildcards):
    return f"{config['task_cards']}: tasks.{wildcards.task}.requirement"


def interventions_shards(wildcards):
    w = wildcards
    return [
        setup_path(f"interventions/{w.task}/seed{w.seed}/T{w.size}/shard{j}.jsonl")
        for j in range(SHARDS)
    ]


# ---- interval inputs ---------------------------------------------------------------


def r_tau_file(wildcards):
    """The task's r_tau as the run's method sees it: read_learned reads the identifier's."""
    name = (
        "r_tau_learned"
        if getattr(wildcards, "method", None) == "read_learned"
        else "r_tau"
    )
    return setup_path(f"tasks/{wildcards.task}/{name}.json")


def prev_student(wildcards):
    """S_{k-1}: S0 for k = 1, else the previous interval's checkpoint."""
    k = int(wildcards.k)
    return MODELS.student if k == 1 else _before(wildcards, "student")


def prev_profile(wildcards):
    """s_{k-1}: the setup's S0 profile for k = 1, else the previous interval's profile."""
    k = int(wildcards.k)
    return (
        setup_path("s0_profile.json") if k == 1 else _before(wildcards, "profile.json")
    )


def prev_ledger(wildcards):
    return _before(wildcards, "ledger.json")


def prev_bandit(wildcards):
    return _before(wildcards, "bandit.json")


def interventions_file(wildcards):
    """The profiling interventions a run's bandit starts from: its task, seed and size."""
    w = wildcards
    return interventions_path(w.task, w.seed, profiling_size(int(w.budget)))


def init_ledger_inputs(wildcards):
    """Bandit methods record their profiling tokens (reported outside B) in the ledger."""
    if is_bandit_method(wildcards.method):
        return {"interventions": interventions_file(wildcards)}
    return {}


def allocate_inputs(wildcards):
    """State before interval k. Adaptive methods read the previous bandit state; the
    other bandit methods (grid, no_adaptation) the pre-fit one at k = 1 and then keep
    their first choice, the previous allocation."""
    k = int(wildcards.k)
    inputs = {
        "r_tau": r_tau_file(wildcards),
        "profile": prev_profile(wildcards),
        "ledger": prev_ledger(wildcards),
    }
    if k > 1:
        inputs["prev_allocation"] = _before(wildcards, "allocation.json")
    if is_adaptive(wildcards.method) or (is_bandit_method(wildcards.method) and k == 1):
        inputs["bandit"] = prev_bandit(wildcards)
    return inputs


def init_bandit_inputs(wildcards):
    return {
        "interventions": interventions_file(wildcards),
        "r_tau": r_tau_file(wildcards),
    }


def last_interval(wildcards, name):
    return f"{run_dir(wildcards)}/i{N_INTERVALS}/{name}"


def interval_checkpoint(path):
    """A student checkpoint before the last interval: temp() for full fine-tuning with
    `models.student.keep_checkpoints: last` (an 8B model is 16 GB an interval); LoRA
    adapters are small and always kept."""
    if STUDENT["mode"] == "full" and STUDENT["keep_checkpoints"] == "last":
        return temp(directory(path))
    return directory(path)


def kd_inputs(wildcards):
    """KD reads the batch's top-k sidecar and checks the teacher's tokenizer against the
    student's; other losses read neither."""
    inputs = {}
    if wildcards.method in TOPK_METHODS:
        inputs["topk"] = f"{run_dir(wildcards)}/i{wildcards.k}/batch.topk.npz"
    if student_params(wildcards)["loss"] == "kd" and MODELS.teacher_tokenizer:
        inputs["teacher_tokenizer"] = MODELS.teacher_tokenizer
    return inputs


def final_inputs(wildcards):
    inputs = {
        "student": last_interval(wildcards, "student"),
        "ledger": last_interval(wildcards, "ledger.json"),
        # not read by evaluate: keeps s_N (the last probe profile) part of every run
        "profile": last_interval(wildcards, "profile.json"),
        "initial": setup_path(f"tasks/{wildcards.task}/s0_eval.json"),
        "suite": setup_path("probes.json"),
        "base": MODELS.student,
        "tokenizer": MODELS.student_tokenizer,
    }
    if is_adaptive(wildcards.method):
        # not read by evaluate; keeps the last bandit update part of every run
        inputs["bandit"] = last_interval(wildcards, "bandit.json")
    return inputs


# ---- params --------------------------------------------------------------------------


def profiling_params(wildcards):
    """`profiling:` for one job: interventions of the size in the path."""
    return {**config["profiling"], "tokens": int(wildcards.size)}


def profiling_interval_tokens(wildcards):
    """Cost unit for scoring interventions: one intervention's tokens (cost ~ 1 each)."""
    return int(wildcards.size)


def generation_params(wildcards):
    """`generation:` as the run's method uses it (read.methods: a teacher-signal suffix)."""
    return GENERATION[wildcards.method]


def student_params(wildcards):
    """`models.student` as the run's method trains it (read.methods)."""
    return method_student(wildcards.method, STUDENT)


def budget_params(wildcards):
    """BudgetConfig fields for this run: B from the path, the rest from `budget:`."""
    return {**config["budget"], "total_tokens": int(wildcards.budget)}


def bandit_params(wildcards):
    """`bandit:` as the method uses it; None for methods that never read it."""
    if not is_bandit_method(wildcards.method):
        return None
    return method_config(wildcards.method, "bandit", config["bandit"])


def reward_params(wildcards):
    """`reward:` as the method uses it; None for methods that never see a reward."""
    if not is_bandit_method(wildcards.method):
        return None
    return method_config(wildcards.method, "reward", config["reward"])


def dev_params(wildcards):
    """Dev utility for calibration: adaptive methods at checkpoint intervals, else None."""
    every = int(config["calibration"]["every"])
    if not is_adaptive(wildcards.method) or every == 0 or int(wildcards.k) % every:
        return None
    ev = config["evaluation"]
    return {
        "task": wildcards.task,
        "card": TASK_CARDS[wildcards.task].to_dict(),
        "n_dev": ev["n_dev"],
        "eval_seed": ev["seed"],
    }


def run_key(wildcards):
    """The run's coordinates, written into final/eval.json."""
    w = wildcards
    return {"method": w.method, "budget": int(w.budget), "seed": int(w.seed)}


def seed_of(wildcards):
    return int(wildcards.seed)


def k_of(wildcards):
    return int(wildcards.k)


def shard_of(wildcards):
    return int(wildcards.shard)


# ---- aggregation ---------------------------------------------------------------------


# the files behind read.aggregate.report.ARTEFACT_OPTIONS: the teacher on each task's test
# split (with a local teacher checkpoint) and each task's r_tau
ARTEFACT_FILES = {
    "requirements": [setup_path(f"tasks/{t}/r_tau.json") for t in TASKS],
    **(
        {"teacher_eval": [setup_path(f"tasks/{t}/teacher_eval.json") for t in TASKS]}
        if MODELS.teacher
        else {}
    ),
}


def _artefact_names():
    """Config `tables`, checked; unset: every artefact whose input files exist here."""
    allowed = [
        n for n in ARTEFACTS if set(REQUIRED_OPTIONS.get(n, ())) <= set(ARTEFACT_FILES)
    ]
    names = list(config["tables"] or allowed)
    for name in names:
        if name not in ARTEFACTS:
            sys.exit(
                f"config tables: unknown artefact {name!r}; choose from {list(ARTEFACTS)}"
            )
        if name not in allowed:
            sys.exit(
                f"config tables: {name} needs the teacher scored on the test split, which needs "
                "a local teacher checkpoint (models.teacher.path); drop it from `tables`"
            )
    return names


ARTEFACT_NAMES = _artefact_names()


def artefact_inputs(wildcards):
    """The runs an artefact summarises, plus the extra files its writer reads."""
    if wildcards.artefact == "allocation_schedule":
        runs = [
            f"{path.rsplit('/final/', 1)[0]}/i{k}/allocation.json"
            for path in run_targets()
            for k in range(1, N_INTERVALS + 1)
        ]
    else:
        runs = run_targets()
    inputs = {"runs": runs}
    for name in ARTEFACT_OPTIONS.get(wildcards.artefact, ()):
        if name in ARTEFACT_FILES:
            inputs[name] = ARTEFACT_FILES[name]
    return inputs


def artefact_options(wildcards):
    """Writer options from the config (files come through artefact_inputs)."""
    return {
        "spillover": {"top_k": RewardConfig(**config["reward"]).top_k},
        "preconditions": {
            "n_intervals": N_INTERVALS,
            "rules": config.get("preconditions", {}),
        },
    }.get(wildcards.artefact, {})
