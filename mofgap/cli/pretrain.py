"""``mofgap pretrain``: pretrain the backbone on QMOF DFT properties (train split only) and save it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def pretrain(
    qmof: Annotated[Path, typer.Option(help="QMOF folder (official layout: qmof.csv + relaxed_structures).")],
    out: Annotated[Path, typer.Option(help="Model folder to write (weights, config.json, model card).")],
    run_dir: Annotated[Path, typer.Option(help="Folder for checkpoints and metrics (resumable).")],
    cache: Annotated[Path | None, typer.Option(help="Graph cache folder.")] = None,
    split_file: Annotated[Path | None, typer.Option(help="qmof_id,split file (default: the QMOF folder's).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Featurization processes.")] = 2,
    epochs: Annotated[int, typer.Option(min=1)] = 24,
    batch_size: Annotated[int, typer.Option(min=1)] = 32,
    learning_rate: Annotated[float, typer.Option()] = 2e-3,
    seed: Annotated[int, typer.Option()] = 0,
    limit: Annotated[int, typer.Option(help="Use only the first N train structures (0: all).")] = 0,
    d_model: Annotated[int, typer.Option(help="Backbone width.")] = 64,
    n_blocks: Annotated[int, typer.Option(help="Backbone transformer blocks.")] = 4,
    device: Annotated[str, typer.Option(help="cpu | cuda.")] = "cpu",
    bf16: Annotated[bool, typer.Option(help="bfloat16 autocast.")] = False,
    resume: Annotated[bool, typer.Option(help="Continue from RUN_DIR/checkpoint.pt if present.")] = True,
) -> None:
    """Pretrain the graph-transformer backbone on per-atom PBE properties and E_hull (never the band gap)."""
    import hashlib
    import json
    import shlex
    import shutil
    import sys

    from rich.console import Console

    from mofgap.data.graphs import qmof_graphs
    from mofgap.data.qmof import QMOF
    from mofgap.graph.neighbors import GraphSettings
    from mofgap.models.backbone import BackboneConfig
    from mofgap.models.card import write_backbone_card
    from mofgap.models.registry import save_backbone
    from mofgap.train.distributed import Distributed
    from mofgap.train.pretrain import CRYSTAL_TARGET, PretrainConfig, holdout_split
    from mofgap.train.pretrain import pretrain as run_pretraining
    from mofgap.utils.atomic import atomic_write_bytes
    from mofgap.utils.hardware import describe_hardware

    distributed = Distributed.from_environment(device)
    device = distributed.device(device)
    console = Console(stderr=True, quiet=not distributed.is_main)
    settings = GraphSettings()
    config = PretrainConfig(
        epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, seed=seed, device=device, bf16=bf16,
        backbone=BackboneConfig(d_model=d_model, n_blocks=n_blocks, cutoff=settings.cutoff),
    )
    labelled = qmof_graphs(
        QMOF(qmof), splits=("train",), split_file=split_file, settings=settings, cache_dir=cache, workers=workers,
        atom_targets=config.atom_targets, progress=distributed.is_main, limit=limit,
    )
    graphs = labelled.graphs
    if not graphs:
        console.print("[red]error:[/red] no train-split structure could be featurized")
        raise typer.Exit(1)
    kept, held = holdout_split([g.qmof_id for g in graphs], config.holdout_fraction, config.seed)
    train_graphs, holdout_graphs = [graphs[i] for i in kept], [graphs[i] for i in held]
    console.print(f"pretraining on {len(train_graphs)} train structures, {len(holdout_graphs)} held out")
    run_dir.mkdir(parents=True, exist_ok=True)
    if distributed.is_main:
        atomic_write_bytes(run_dir / "config.json", (json.dumps(config.as_dict(), indent=2) + "\n").encode())

    def report(metrics: dict[str, float]) -> None:
        console.print(
            f"epoch {int(metrics['epoch'])}: train {metrics['train_loss']:.4f}  holdout {metrics['holdout_loss']:.4f}"
            f"  ({metrics['seconds']:.0f} s)"
        )

    result = run_pretraining(train_graphs, holdout_graphs, config, run_dir, resume=resume, on_epoch=report,
                             distributed=distributed)
    if not distributed.is_main:
        return
    ids = "\n".join(sorted(g.qmof_id for g in train_graphs)).encode()
    extra = {
        "graph": settings.as_dict(),
        "n_parameters": sum(p.numel() for p in result.backbone.parameters()),
        "data": {
            "split": "JARVIS-Leaderboard qmof_bandgap, train split only",
            "n_train": len(train_graphs),
            "n_holdout": len(holdout_graphs),
            "n_failed": len(labelled.failures),
            "train_ids_sha256": hashlib.sha256(ids).hexdigest(),
            "targets": [*config.atom_targets, CRYSTAL_TARGET],
        },
        "best_epoch": result.best_epoch,
        "holdout_mae": result.holdout_mae,
        "training": {
            **config.as_dict(),
            "epochs_run": len(result.history),
            "seconds": result.train_seconds,
            "hardware": describe_hardware(device),
            "processes": distributed.world_size,
            "command": shlex.join(["mofgap", *sys.argv[1:]]),
        },
    }
    saved = save_backbone(result.backbone, out, extra)
    shutil.copyfile(run_dir / "metrics.csv", out / "training_metrics.csv")
    write_backbone_card(out, saved)
    console.print(f"saved {out} (best epoch {result.best_epoch}, {result.train_seconds / 60:.1f} min)")
