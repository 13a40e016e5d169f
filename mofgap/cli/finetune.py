"""``mofgap finetune``: fine-tune the pretrained backbone on QMOF band gaps (ft, LoRA, BaLoRA, MC-dropout)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def finetune(
    qmof: Annotated[Path, typer.Option(help="QMOF folder (official layout).")],
    out: Annotated[Path, typer.Option(help="Folder for the fine-tuned model (adapter or full weights).")],
    run_dir: Annotated[Path, typer.Option(help="Checkpoints, metrics.csv and the resolved config.")],
    method: Annotated[str, typer.Option(help="ft | lora | balora | mcdropout.")] = "balora",
    backbone: Annotated[str, typer.Option(help="Pretrained backbone: shipped name or folder.")] = (
        "gt-qmof-pbe-atomprops-d64l4-v1"
    ),
    cache: Annotated[Path | None, typer.Option(help="Graph cache folder.")] = None,
    split_file: Annotated[Path | None, typer.Option(help="qmof_id,split file (default: the QMOF folder's).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Featurization processes.")] = 2,
    epochs: Annotated[int, typer.Option(min=1)] = 30,
    batch_size: Annotated[int, typer.Option(min=1)] = 32,
    learning_rate: Annotated[float, typer.Option()] = 2e-3,
    rank: Annotated[int, typer.Option(min=1, help="Adapter rank.")] = 8,
    lora_alpha: Annotated[float, typer.Option(help="Adapter scaling numerator.")] = 16.0,
    target_modules: Annotated[str | None, typer.Option(help="Regex of layers to adapt (default: all blocks).")] = None,
    dropout: Annotated[float, typer.Option(help="Adapter-input dropout (MC-dropout p).")] = 0.1,
    stochastic_modules: Annotated[str, typer.Option(
        help="Layers that get the stochastic adapter (others: LoRA): top-ffn (the top block's feed-forward), "
             "all, or a regex.")] = "top-ffn",
    noise_site: Annotated[str, typer.Option(help="BaLoRA noise: A | B | both | bottleneck.")] = "A",
    alpha_mode: Annotated[str, typer.Option(help="BaLoRA α: rank | layer | fixed.")] = "rank",
    prior: Annotated[str, typer.Option(help="BaLoRA prior: log_uniform | aggregated.")] = "log_uniform",
    kl_warmup_epochs: Annotated[int, typer.Option(min=0)] = 5,
    loss: Annotated[str, typer.Option(help="nll | l1.")] = "nll",
    patience: Annotated[int, typer.Option(min=1)] = 8,
    seed: Annotated[int, typer.Option()] = 0,
    limit: Annotated[int, typer.Option(help="Use only the first N train structures (0: all).")] = 0,
    device: Annotated[str, typer.Option(help="cpu | cuda.")] = "cpu",
    resume: Annotated[bool, typer.Option(help="Continue from RUN_DIR/checkpoint.pt if present.")] = True,
) -> None:
    """Fine-tune on the train split, select on the validation split (the test split is never read)."""
    import json
    import shlex
    import sys

    from rich.console import Console

    from mofgap.adapters import DEFAULT_TARGETS, AdapterConfig, BaLoRAConfig
    from mofgap.data.graphs import qmof_graphs
    from mofgap.data.qmof import QMOF
    from mofgap.models import load_backbone
    from mofgap.models.finetuned import save_finetuned
    from mofgap.models.registry import versions
    from mofgap.train.distributed import Distributed
    from mofgap.train.finetune import FinetuneConfig, build_model
    from mofgap.train.finetune import finetune as run_finetuning
    from mofgap.utils.atomic import atomic_write_bytes
    from mofgap.utils.hardware import describe_hardware

    distributed = Distributed.from_environment(device)
    device = distributed.device(device)
    console = Console(stderr=True, quiet=not distributed.is_main)
    base = load_backbone(backbone)
    stochastic = {"all": None, "top-ffn": rf".*blocks\.{base.config.n_blocks - 1}\.(ffn_in|ffn_out)"}.get(
        stochastic_modules, stochastic_modules
    )
    try:
        adapter = AdapterConfig(
            method="lora" if method == "ft" else method, rank=rank, lora_alpha=lora_alpha,  # type: ignore[arg-type]
            target_modules=target_modules or DEFAULT_TARGETS, dropout=dropout if method == "mcdropout" else 0.0,
            stochastic_modules=stochastic,
            balora=BaLoRAConfig(noise_site=noise_site, alpha_mode=alpha_mode, prior=prior),  # type: ignore[arg-type]
        )
        config = FinetuneConfig(
            method=method, adapter=adapter, epochs=epochs, batch_size=batch_size,  # type: ignore[arg-type]
            learning_rate=learning_rate, kl_warmup_epochs=kl_warmup_epochs, loss=loss,  # type: ignore[arg-type]
            patience=patience, seed=seed, device=device,
        )
    except (ValueError, TypeError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    database = QMOF(qmof)
    common = {"split_file": split_file, "cache_dir": cache, "workers": workers, "progress": distributed.is_main}
    train = qmof_graphs(database, splits=("train",), limit=limit, **common).graphs
    val = qmof_graphs(database, splits=("val",), **common).graphs
    if not train or not val:
        console.print("[red]error:[/red] need train and val structures")
        raise typer.Exit(1)
    resolved = {"finetune": config.as_dict(), "backbone": backbone, "n_train": len(train), "n_val": len(val),
                "command": shlex.join(["mofgap", *sys.argv[1:]]), "versions": versions(),
                "hardware": describe_hardware(device)}
    resolved["processes"] = distributed.world_size
    run_dir.mkdir(parents=True, exist_ok=True)
    if distributed.is_main:
        atomic_write_bytes(run_dir / "config.json", (json.dumps(resolved, indent=2) + "\n").encode())
    console.print(f"fine-tuning ({method}) on {len(train)} train structures, selecting on {len(val)} val")

    def report(metrics: dict[str, float]) -> None:
        console.print(f"epoch {int(metrics['epoch'])}: val MAE {metrics['val_mae_eV']:.4f} eV "
                      f"(data loss {metrics['train_data_loss']:.4f}, KL {metrics['train_kl']:.3g}, "
                      f"{metrics['seconds']:.0f} s)")

    model = build_model(base, config)
    result = run_finetuning(model, train, val, config, run_dir, resume=resume, on_epoch=report,
                            progress=distributed.is_main, distributed=distributed)
    if not distributed.is_main:
        return
    extra = {**resolved, "best_epoch": result.best_epoch, "val_mae_eV": result.best_val_mae_eV,
             "train_seconds": result.train_seconds}
    save_finetuned(result.model, out, method=method, adapter=adapter, base=backbone, extra=extra)
    console.print(f"saved {out}: best epoch {result.best_epoch}, val MAE {result.best_val_mae_eV:.4f} eV")
