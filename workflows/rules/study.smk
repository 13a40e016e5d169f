# The BaLoRA-versus-baselines study: ablation (validation) → selected variant → every method × seed
# (+ LoRA ensembles) → samples on val/test → evaluation (calibration fitted on val) → comparison,
# ρ-versus-M/K curves, report, and the default model. Each step writes a benchmark TSV (wall and CPU time).
AB = config["ablation"]
SEEDS = config["seeds"]
K = config["ensemble"]["members"]
REPEATS = config["ensemble"]["repeats"]
MAIN_RUNS = [f"{m}-s{s}" for m in config["methods"] for s in SEEDS]
ENSEMBLES = [f"lora-ensemble-r{r}" for r in range(REPEATS)]
NAMES = {"ft": "FT", "lora": "LoRA", "balora": "BaLoRA", "mcdropout": "MC-dropout LoRA", "lora-ensemble": "LoRA ensemble"}

wildcard_constraints:
    variant="[A-Za-z0-9-]+",
    method="ft|lora|balora|mcdropout",
    seed=r"\d+",
    split="val|test",
    repeat=r"\d+",


def selected_flags(method, input):
    """Finetune flags of a main-study method: its own, plus the ablation's choice where it applies."""
    flags = [config["methods"][method]]
    if method == "ft":
        return flags[0]
    selected = json.loads(open(input.selected).read())
    flags.append(selected["placement_flags"])
    if method == "balora":
        flags.append(selected["balora_flags"])
    return " ".join(f for f in flags if f)


rule study:
    input:
        f"{R}/ablation/comparison.md",
        f"{R}/comparison/comparison.md",
        f"{R}/curves/curves.json",
        f"{R}/report.md",
        f"{R}/screening/screening.md",
        f"{DEFAULT_MODEL}/README.md",


rule study_ablation:
    input:
        f"{R}/ablation/selected.json",


rule ablation_finetune:
    input:
        prepared,
    output:
        f"{R}/ablation/{{variant}}/model/adapter_config.json",
    params:
        flags=lambda wc: AB["variants"][wc.variant],
        folder=f"{R}/ablation/{{variant}}",
    log:
        f"{R}/ablation/{{variant}}/train.log",
    benchmark:
        f"{R}/ablation/{{variant}}/benchmark-finetune.tsv"
    priority: 10  # the selection gates every adapter run of the main study
    threads: 1
    shell:
        "OMP_NUM_THREADS={threads} {MOFGAP} finetune {COMMON} --method balora --epochs {AB[epochs]} "
        "--kl-warmup-epochs {AB[kl_warmup_epochs]} --seed {AB[seed]} --out {params.folder}/model "
        "--run-dir {params.folder}/run {params.flags} > {log} 2>&1"


rule run_finetune:
    input:
        # the selection is `ancient`, like the split and backbone: re-making the ablation's files (a fresh
        # clone has no file times to trust) does not by itself redo finished runs
        unpack(lambda wc: {"prepared": prepared()}
               | ({} if wc.method == "ft" else {"selected": ancient(f"{R}/ablation/selected.json")})),
    output:
        f"{R}/runs/{{method}}-s{{seed}}/model/adapter_config.json",
    params:
        flags=lambda wc, input: selected_flags(wc.method, input),
        folder=f"{R}/runs/{{method}}-s{{seed}}",
    log:
        f"{R}/runs/{{method}}-s{{seed}}/train.log",
    benchmark:
        f"{R}/runs/{{method}}-s{{seed}}/benchmark-finetune.tsv"
    threads: 1
    shell:
        "OMP_NUM_THREADS={threads} {MOFGAP} finetune {COMMON} --epochs {config[epochs]} "
        "--kl-warmup-epochs {config[kl_warmup_epochs]} --seed {wildcards.seed} --out {params.folder}/model "
        "--run-dir {params.folder}/run {params.flags} > {log} 2>&1"


rule ablation_samples:
    input:
        f"{R}/ablation/{{variant}}/model/adapter_config.json",
    output:
        temp(f"{R}/ablation/{{variant}}/val.npz"),
    benchmark:
        f"{R}/ablation/{{variant}}/benchmark-samples.tsv"
    threads: 1
    shell:
        "OMP_NUM_THREADS={threads} {MOFGAP} study samples {DATA_FLAGS} --split val --model $(dirname {input}) --samples {AB[samples]} --out {output}"


rule run_samples:
    input:
        f"{R}/runs/{{method}}-s{{seed}}/model/adapter_config.json",
    output:
        f"{R}/runs/{{method}}-s{{seed}}/{{split}}.npz",
    benchmark:
        f"{R}/runs/{{method}}-s{{seed}}/benchmark-samples-{{split}}.tsv"
    threads: 1
    shell:
        "OMP_NUM_THREADS={threads} {MOFGAP} study samples {DATA_FLAGS} --split {wildcards.split} --model $(dirname {input}) --samples {config[samples]} "
        "--seed {wildcards.seed} --out {output}"


rule ensemble_samples:
    input:
        lambda wc: [f"{R}/runs/lora-s{s}/model/adapter_config.json"
                    for s in range(int(wc.repeat) * K, int(wc.repeat) * K + K)],
    output:
        f"{R}/ensembles/lora-ensemble-r{{repeat}}/{{split}}.npz",
    params:
        models=lambda wc, input: " ".join(f"--model {shlex.quote(str(p).rsplit('/', 1)[0])}" for p in input),
    benchmark:
        f"{R}/ensembles/lora-ensemble-r{{repeat}}/benchmark-samples-{{split}}.tsv"
    threads: 1
    shell:
        "OMP_NUM_THREADS={threads} {MOFGAP} study samples {DATA_FLAGS} --split {wildcards.split} {params.models} --out {output}"


rule prediction_table:
    input:
        "{folder}/{split}.npz",
    output:
        "{folder}/{split}-predictions.csv",
    params:
        passes=lambda wc: AB["samples"] if "/ablation/" in wc.folder else config["eval_samples"],
    shell:
        "{MOFGAP} study table {input} --samples {params.passes} --name $(basename {wildcards.folder}) --out {output}"


def display_name(folder):
    """Method name of a run folder (seeds and repeats share it)."""
    base = folder.rstrip("/").rsplit("/", 1)[-1]
    if "/ablation/" in folder:
        return base
    return NAMES[base.rsplit("-", 1)[0]]


rule ablation_evaluate:
    input:
        f"{R}/ablation/{{variant}}/val-predictions.csv",
    output:
        f"{R}/ablation/{{variant}}/eval-val/metrics.json",
    shell:
        "{MOFGAP} evaluate {input} --labels {config[qmof]}/qmof.csv --name {wildcards.variant} "
        "--out $(dirname {output}) > /dev/null"


rule evaluate_test:
    input:
        test="{folder}/test-predictions.csv",
        val="{folder}/val-predictions.csv",
    output:
        "{folder}/eval-test/metrics.json",
    params:
        name=lambda wc: display_name(wc.folder),
    shell:
        "{MOFGAP} evaluate {input.test} --calibration {input.val} --labels {config[qmof]}/qmof.csv "
        "--coverage {config[coverage]} --name {params.name:q} --out $(dirname {output}) > /dev/null"


rule ablation_compare:
    input:
        expand(f"{R}/ablation/{{variant}}/eval-val/metrics.json", variant=AB["variants"]),
    output:
        f"{R}/ablation/comparison.md",
    params:
        folders=lambda wc, input: " ".join(str(p).rsplit("/", 1)[0] for p in input),
    shell:
        "{MOFGAP} compare {params.folders} --out $(dirname {output}) > /dev/null"


rule ablation_select:
    input:
        expand(f"{R}/ablation/{{variant}}/eval-val/metrics.json", variant=AB["variants"]),
    output:
        f"{R}/ablation/selected.json",
    params:
        placement=AB["placement_variants"],
    run:
        from mofgap.study.selection import select_variant

        select_variant({v: f"{R}/ablation/{v}/eval-val/metrics.json" for v in AB["variants"]},
                       AB["variants"], params.placement, output[0])


rule compare:
    input:
        expand(f"{R}/runs/{{run}}/eval-test/metrics.json", run=MAIN_RUNS),
        expand(f"{R}/ensembles/{{ens}}/eval-test/metrics.json", ens=ENSEMBLES),
    output:
        f"{R}/comparison/comparison.md",
    params:
        folders=lambda wc, input: " ".join(str(p).rsplit("/", 1)[0] for p in input),
    shell:
        "{MOFGAP} compare {params.folders} --out $(dirname {output})"


rule curves:
    input:
        balora=expand(f"{R}/runs/balora-s{{seed}}/test.npz", seed=SEEDS),
        mcdropout=expand(f"{R}/runs/mcdropout-s{{seed}}/test.npz", seed=SEEDS),
        ensembles=expand(f"{R}/ensembles/{{ens}}/test.npz", ens=ENSEMBLES),
    output:
        f"{R}/curves/curves.json",
    params:
        sets=lambda wc, input: " ".join(
            [f"BaLoRA={p}" for p in input.balora] + [f"MC-dropout={p}" for p in input.mcdropout]
            + [f"LoRA-ensemble={p}" for p in input.ensembles]),
    shell:
        "{MOFGAP} study curves {params.sets} --out $(dirname {output})"


rule report:
    input:
        ablation=f"{R}/ablation/comparison.md",
        selected=f"{R}/ablation/selected.json",
        comparison=f"{R}/comparison/comparison.md",
        curves=f"{R}/curves/curves.json",
    output:
        f"{R}/report.md",
    params:
        config_file=workflow.configfiles[0] if workflow.configfiles else "workflows/config/qmof.yaml",
    shell:
        "{MOFGAP} study report --results {R} --config-file {params.config_file}"


rule default_model:
    input:
        expand(f"{R}/runs/balora-s{{seed}}/eval-test/metrics.json", seed=SEEDS),
        expand(f"{R}/runs/balora-s{{seed}}/val-predictions.csv", seed=SEEDS),
    output:
        f"{DEFAULT_MODEL}/README.md",
    params:
        runs=" ".join(f"{R}/runs/balora-s{s}" for s in SEEDS),
    shell:
        "{MOFGAP} study ship {params.runs} --labels {config[qmof]}/qmof.csv --samples {config[eval_samples]} "
        "--out {DEFAULT_MODEL}"


rule screening_benchmark:
    input:
        balora=expand(f"{R}/runs/balora-s{{seed}}/test-predictions.csv", seed=SEEDS),
        ensembles=expand(f"{R}/ensembles/{{ens}}/test-predictions.csv", ens=ENSEMBLES),
    output:
        f"{R}/screening/screening.md",
    params:
        models=lambda wc, input: " ".join([f"--model BaLoRA={p}" for p in input.balora]
                                          + [f"--model 'LoRA ensemble={p}'" for p in input.ensembles]),
    shell:
        "{MOFGAP} study screening --qmof {QMOF} {SPLIT_FLAG} {params.models} --out $(dirname {output}) > /dev/null"
