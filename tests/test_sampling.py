"""M-sample prediction with a shared deterministic prefix, and frozen-prefix caching."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch_geometric.data import Batch

from mofgap.adapters import AdapterConfig, BaLoRAConfig, adapter_layers, add_adapters
from mofgap.data.graphs import qmof_graphs
from mofgap.data.qmof import QMOF
from mofgap.models import BandGapModel, GraphTransformer
from mofgap.models.backbone import BackboneConfig
from mofgap.models.sampling import combine_samples, first_adapted_block, first_stochastic_site, sample_predictions
from mofgap.train.gap import predict_gaps
from mofgap.train.prefix_cache import with_frozen_prefix


@pytest.fixture(scope="module")
def graphs(sample: Path) -> list:
    return qmof_graphs(QMOF(sample), limit=6).graphs


def balora_model(target: str, alpha_init: float) -> BandGapModel:
    torch.manual_seed(0)
    model = BandGapModel(GraphTransformer(BackboneConfig(d_model=16, n_blocks=3, n_heads=2)))
    config = AdapterConfig(method="balora", rank=2, target_modules=target,
                           balora=BaLoRAConfig(alpha_init=alpha_init, alpha_min=alpha_init / 10))
    add_adapters(model.backbone, config)
    with torch.no_grad():
        for _, layer in adapter_layers(model):
            layer.lora_B.normal_(0, 0.5)
        for p in model.head.parameters():
            p.normal_(0, 0.3)
    return model.eval()


def test_samples_without_noise_equal_the_mean_path(graphs: list) -> None:
    model = balora_model(r"blocks\.[12]\..*", alpha_init=1e-12)
    assert first_stochastic_site(model.backbone) == (1, False)
    batch = Batch.from_data_list(graphs)
    means, sigmas = sample_predictions(model, batch, samples=5)
    expected = predict_gaps(model, graphs)
    assert means.shape == (5, len(graphs))
    torch.testing.assert_close(means, expected.mean_eV.expand(5, -1), atol=1e-4, rtol=0)
    torch.testing.assert_close(sigmas, expected.sigma_eV.expand(5, -1), atol=1e-4, rtol=0)


@pytest.mark.parametrize("chunk_atoms", [65_536, 100])
def test_feed_forward_site_and_chunks_match_the_mean_path(graphs: list, chunk_atoms: int) -> None:
    model = balora_model(r"blocks\.2\.ffn_.*", alpha_init=1e-12)
    assert first_stochastic_site(model.backbone) == (2, True)
    batch = Batch.from_data_list(graphs)
    means, _ = sample_predictions(model, batch, samples=7, max_atoms=chunk_atoms)
    assert means.shape == (7, len(graphs))
    torch.testing.assert_close(means, predict_gaps(model, graphs).mean_eV.expand(7, -1), atol=1e-4, rtol=0)


def test_samples_with_noise_spread_and_combine(graphs: list) -> None:
    model = balora_model(r"blocks\.2\..*", alpha_init=0.5)
    means, sigmas = sample_predictions(model, Batch.from_data_list(graphs), samples=64)
    assert (means.std(0) > 0).all()
    combined = combine_samples(means, sigmas)
    torch.testing.assert_close(combined.sigma_eV ** 2, combined.sigma_epistemic_eV ** 2
                               + combined.sigma_aleatoric_eV ** 2)
    torch.testing.assert_close(combined.mean_eV, means.mean(0))


def test_combine_on_fixed_arrays() -> None:
    means = torch.tensor([[1.0, 2.0], [3.0, 2.0]])
    sigmas = torch.tensor([[0.3, 0.1], [0.4, 0.1]])
    out = combine_samples(means, sigmas)
    torch.testing.assert_close(out.mean_eV, torch.tensor([2.0, 2.0]))
    torch.testing.assert_close(out.sigma_epistemic_eV, torch.tensor([1.0, 0.0]))
    torch.testing.assert_close(out.sigma_aleatoric_eV, torch.tensor([0.125 ** 0.5, 0.1]))


def test_frozen_prefix_gives_the_same_outputs(graphs: list) -> None:
    model = balora_model(r"blocks\.2\..*", alpha_init=0.01)
    assert first_adapted_block(model.backbone) == 2
    cached = with_frozen_prefix(model.backbone, graphs, 2)
    assert "prefix_x" not in graphs[0]
    full = predict_gaps(model, graphs)
    fast = predict_gaps(model, cached)
    torch.testing.assert_close(fast.mean_eV, full.mean_eV, atol=1e-5, rtol=0)
