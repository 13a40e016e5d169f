"""Adapters: parameter counts, identities (zero init, merge, mean path), noise, KL, injection by name."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from mofgap.adapters import (
    AdapterConfig,
    BaLoRAConfig,
    BaLoRALinear,
    LoRALinear,
    adapter_layers,
    add_adapters,
    kl_per_weight,
    merge_adapters,
    set_stochastic,
    total_kl,
    unmerge_adapters,
)
from mofgap.models import GraphTransformer
from mofgap.models.backbone import BackboneConfig

RANK = 4


def mlp() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(10, 20), nn.SiLU(), nn.Linear(20, 20), nn.SiLU(), nn.Linear(20, 3))


def trainable(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def randomize_b(model: nn.Module) -> None:
    with torch.no_grad():
        for _, layer in adapter_layers(model):
            layer.lora_B.normal_(0, 0.3)


def test_lora_parameter_count_and_frozen_base() -> None:
    model = mlp()
    names = add_adapters(model, AdapterConfig(method="lora", rank=RANK, target_modules=["0", "2"]))
    assert names == ["0", "2"]
    assert trainable(model) == RANK * (10 + 20) + RANK * (20 + 20)
    assert not model[4].weight.requires_grad and type(model[4]) is nn.Linear


def test_balora_adds_only_its_alpha_encoder() -> None:
    lora, balora = mlp(), mlp()
    add_adapters(lora, AdapterConfig(method="lora", rank=RANK, target_modules=r"\d"))
    add_adapters(balora, AdapterConfig(method="balora", rank=RANK, target_modules=r"\d"))
    hidden = BaLoRAConfig().hidden
    encoder = RANK * hidden + hidden + hidden * RANK + RANK
    assert trainable(balora) - trainable(lora) == encoder
    per_layer = mlp()
    add_adapters(per_layer, AdapterConfig(method="balora", rank=RANK, target_modules=r"\d",
                                          balora=BaLoRAConfig(share_alpha_encoder=False)))
    assert trainable(per_layer) - trainable(lora) == 3 * encoder


def test_backbone_injection_counts() -> None:
    backbone = GraphTransformer(BackboneConfig(d_model=32, n_blocks=2))
    names = add_adapters(backbone, AdapterConfig(method="lora", rank=RANK))
    assert len(names) == 2 * 7
    expected = sum(RANK * (m.in_features + m.out_features) for _, m in adapter_layers(backbone))
    assert trainable(backbone) == expected


@pytest.mark.parametrize("method", ["lora", "balora", "mcdropout"])
def test_zero_initialised_b_leaves_outputs_unchanged(method: str) -> None:
    model, reference = mlp(), mlp()
    add_adapters(model, AdapterConfig(method=method, rank=RANK, target_modules=r"\d", dropout=0.2))
    x = torch.randn(7, 10)
    model.train()
    torch.testing.assert_close(model(x), reference(x), atol=0, rtol=0)


def test_merge_equals_unmerged() -> None:
    for method in ("lora", "balora"):
        model = mlp()
        add_adapters(model, AdapterConfig(method=method, rank=RANK, target_modules=r"\d"))
        randomize_b(model)
        set_stochastic(model, False)
        x = torch.randn(9, 10)
        with torch.no_grad():
            before = model(x)
            merge_adapters(model)
            merged = model(x)
            unmerge_adapters(model)
            after = model(x)
        torch.testing.assert_close(merged, before, atol=1e-5, rtol=0)
        torch.testing.assert_close(after, before, atol=1e-6, rtol=0)
        assert not torch.allclose(before, mlp()(x), atol=1e-3)


def test_balora_mean_mode_is_the_lora_path() -> None:
    lora, balora = mlp(), mlp()
    add_adapters(lora, AdapterConfig(method="lora", rank=RANK, target_modules=r"\d"))
    add_adapters(balora, AdapterConfig(method="balora", rank=RANK, target_modules=r"\d"))
    randomize_b(lora)
    for (_, a), (_, b) in zip(adapter_layers(lora), adapter_layers(balora), strict=True):
        b.lora_A.data.copy_(a.lora_A.data)
        b.lora_B.data.copy_(a.lora_B.data)
    set_stochastic(balora, False)
    x = torch.randn(5, 10)
    torch.testing.assert_close(balora(x), lora(x), atol=1e-6, rtol=0)


@pytest.mark.parametrize("site", ["A", "B", "both", "bottleneck"])
@pytest.mark.parametrize("alpha_mode", ["rank", "layer", "fixed"])
def test_stochastic_mode_varies_with_the_input(site: str, alpha_mode: str) -> None:
    model = mlp()
    config = BaLoRAConfig(noise_site=site, alpha_mode=alpha_mode, alpha_init=0.3)
    add_adapters(model, AdapterConfig(method="balora", rank=RANK, target_modules=r"\d", balora=config))
    randomize_b(model)
    with torch.no_grad():
        encoder = model[0].alpha_encoder
        if alpha_mode != "fixed":
            encoder.net[2].weight.normal_(0, 1.0)  # make α depend on the input
    x = torch.cat([torch.randn(1, 10) * 0.1, torch.randn(1, 10) * 3.0])
    torch.manual_seed(1)
    with torch.no_grad():
        samples = torch.stack([model(x) for _ in range(200)])
    spread = samples.std(0)
    assert (spread > 0).all()
    assert not torch.allclose(spread[0], spread[1], rtol=0.2)
    set_stochastic(model, False)
    with torch.no_grad():
        assert torch.equal(model(x), model(x))


def test_log_uniform_kl_against_numerical_integration() -> None:
    # Exact up to a constant: KL(α) = −½ log α + E_{ε~N(1, α)} log|ε| + C (Molchanov et al., 2017).
    from scipy import integrate, stats

    alphas = np.logspace(-2.5, 0.5, 12)
    exact = []
    for alpha in alphas:
        density = stats.norm(1.0, math.sqrt(alpha)).pdf
        width = 12 * math.sqrt(alpha)
        expectation, _ = integrate.quad(lambda e, pdf=density: pdf(e) * math.log(abs(e)), 1 - width, 1 + width,
                                        points=[0.0] if width > 1 else None, limit=200)
        exact.append(-0.5 * math.log(alpha) + expectation)
    approx = kl_per_weight(torch.tensor(alphas)[:, None], "log_uniform")[:, 0].numpy()
    offset = approx - np.array(exact)
    assert np.ptp(offset) < 0.03


def test_aggregated_kl_against_monte_carlo() -> None:
    alpha = torch.tensor([[0.05], [0.2], [0.6]], dtype=torch.float64)
    mean_alpha = float(alpha.mean())
    closed = kl_per_weight(alpha, "aggregated")[:, 0]
    generator = torch.Generator().manual_seed(0)
    mu = 0.7
    for row, a in enumerate(alpha[:, 0].tolist()):
        q = torch.distributions.Normal(mu, math.sqrt(a) * mu)
        p = torch.distributions.Normal(mu, math.sqrt(mean_alpha) * mu)
        w = mu + math.sqrt(a) * mu * torch.randn(400_000, generator=generator, dtype=torch.float64)
        monte_carlo = float((q.log_prob(w) - p.log_prob(w)).mean())
        assert monte_carlo == pytest.approx(float(closed[row]), abs=5e-3)


def test_layer_kl_sums_components_and_weights() -> None:
    torch.manual_seed(0)
    layer = BaLoRALinear(nn.Linear(6, 5), rank=3, lora_alpha=3.0, config=BaLoRAConfig(noise_site="A"))
    x = torch.randn(8, 6)
    layer(x)
    expected = (kl_per_weight(layer.last_alpha, "log_uniform").sum(-1) * 6).mean()
    torch.testing.assert_close(layer.last_kl, expected)
    model = mlp()
    add_adapters(model, AdapterConfig(method="balora", rank=RANK, target_modules=r"\d"))
    model(torch.randn(4, 10))
    layers = [m for _, m in adapter_layers(model)]
    torch.testing.assert_close(total_kl(model), sum(m.last_kl for m in layers))
    assert float(total_kl(model).detach()) > 0


def test_target_modules_by_regex_and_suffix() -> None:
    backbone = GraphTransformer(BackboneConfig(d_model=32, n_blocks=3))
    top = add_adapters(backbone, AdapterConfig(method="lora", rank=2, target_modules=r"blocks\.2\.(query|value)"))
    assert top == ["blocks.2.query", "blocks.2.value"]
    other = GraphTransformer(BackboneConfig(d_model=32, n_blocks=3))
    names = add_adapters(other, AdapterConfig(method="lora", rank=2, target_modules=["ffn_out", "blocks.0.key"]))
    assert names == ["blocks.0.key", "blocks.0.ffn_out", "blocks.1.ffn_out", "blocks.2.ffn_out"]
    with pytest.raises(ValueError, match="matches no"):
        add_adapters(GraphTransformer(), AdapterConfig(method="lora", target_modules=["nothing"]))
    assert isinstance(other.blocks[0].key, LoRALinear)


def test_adapter_save_load_round_trip(tmp_path) -> None:
    from mofgap.adapters.io import AdapterLoadError, adapter_state_dict, load_adapter_weights, save_adapter

    config = AdapterConfig(method="balora", rank=RANK, target_modules=r"\d")
    trained = mlp()
    add_adapters(trained, config)
    randomize_b(trained)
    with torch.no_grad():
        trained[0].alpha_encoder.net[2].weight.normal_(0, 0.1)
    save_adapter(trained, tmp_path, config, {"base": "mlp"})
    keys = set(adapter_state_dict(trained))
    assert any(k.endswith("alpha_encoder.net.0.weight") for k in keys)
    assert not any(k.endswith(".base.weight") for k in keys)

    fresh = mlp()
    add_adapters(fresh, config)
    load_adapter_weights(fresh, tmp_path)
    set_stochastic(trained, False)
    set_stochastic(fresh, False)
    x = torch.randn(6, 10)
    torch.testing.assert_close(fresh(x), trained(x), atol=0, rtol=0)
    set_stochastic(trained, True)
    set_stochastic(fresh, True)
    torch.manual_seed(5)
    first = trained(x)
    torch.manual_seed(5)
    torch.testing.assert_close(fresh(x), first, atol=0, rtol=0)

    lora_only = mlp()
    add_adapters(lora_only, AdapterConfig(method="lora", rank=RANK, target_modules=r"\d"))
    with pytest.raises(AdapterLoadError, match="unexpected keys"):
        load_adapter_weights(lora_only, tmp_path)
    (tmp_path / "adapter.safetensors").write_bytes(b"corrupt")
    with pytest.raises(AdapterLoadError, match="sha256"):
        load_adapter_weights(fresh, tmp_path)


def test_stochastic_modules_limit_the_noise_to_their_layers() -> None:
    backbone = GraphTransformer(BackboneConfig(d_model=32, n_blocks=2))
    config = AdapterConfig(method="balora", rank=RANK, stochastic_modules=r".*blocks\.1\.ffn_(in|out)")
    names = add_adapters(backbone, config)
    kinds = {name: type(backbone.get_submodule(name)).__name__ for name in names}
    assert kinds.pop("blocks.1.ffn_in") == kinds.pop("blocks.1.ffn_out") == "BaLoRALinear"
    assert set(kinds.values()) == {"LoRALinear"}
    assert AdapterConfig.from_dict(config.as_dict()) == config
