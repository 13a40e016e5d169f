"""BaLoRA: LoRA with input-adaptive multiplicative Gaussian noise on its weights.

Default (noise on A, one α per rank component, log-uniform prior), for a layer input ``x``:

    u    = A x
    α(x) = softplus(g_φ(u)) + α_min                      g_φ: r → h → r, shared by every layer
    var  = α(x) ⊙ ((A ⊙ A)(x ⊙ x))                       A_ij ~ N(Ā_ij, α_i(x) Ā_ij²), local reparameterisation
    z    = u + √var ⊙ ε,   ε ~ N(0, I_r)
    y    = W0 x + b0 + s · B z

In mean mode (``stochastic = False``) ``z = u``: the LoRA path, mergeable. Variants (configuration):
noise on ``B``, on ``both``, or on the ``bottleneck`` only (``z = u ⊙ (1 + √α ε)``); α per rank
component (``rank``), one per input (``layer``), or input-independent (``fixed``: variational dropout
on LoRA); log-uniform prior (``log_uniform``: Molchanov et al.'s approximation of −KL) or BARNN's
aggregated prior (``aggregated``: a Gaussian with the batch-averaged posterior variance, closed form).

The KL of the last stochastic forward pass is kept in ``last_kl``: per input row, summed over rank
components and the weights each α scales, averaged over the rows.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Literal

import torch
from torch import Tensor, nn

from mofgap.adapters.lora import LoRALinear

NoiseSite = Literal["A", "B", "both", "bottleneck"]
AlphaMode = Literal["rank", "layer", "fixed"]
Prior = Literal["log_uniform", "aggregated"]

K1, K2, K3 = 0.63576, 1.87320, 1.48695
"""Constants of Molchanov et al. (2017)'s approximation of the log-uniform KL."""


@dataclass(frozen=True)
class BaLoRAConfig:
    """BaLoRA's settings (see the module docstring for the variants).

    Attributes:
        noise_site: where the multiplicative noise goes.
        alpha_mode: granularity of α.
        prior: the KL term.
        hidden: hidden width h of the α encoder g_φ.
        alpha_min: floor of α.
        alpha_init: α at initialisation (training starts close to plain LoRA).
        share_alpha_encoder: one g_φ for every adapted layer (else one per layer).
    """

    noise_site: NoiseSite = "A"
    alpha_mode: AlphaMode = "rank"
    prior: Prior = "log_uniform"
    hidden: int = 16
    alpha_min: float = 1e-4
    alpha_init: float = 1e-2
    share_alpha_encoder: bool = True

    def __post_init__(self) -> None:
        for value, allowed in ((self.noise_site, NoiseSite), (self.alpha_mode, AlphaMode), (self.prior, Prior)):
            if value not in allowed.__args__:  # type: ignore[attr-defined]
                raise ValueError(f"{value!r} is not one of {allowed.__args__}")  # type: ignore[attr-defined]
        if not 0 < self.alpha_min < self.alpha_init:
            raise ValueError("need 0 < alpha_min < alpha_init")

    def as_dict(self) -> dict[str, object]:
        """The settings as a plain dictionary."""
        return asdict(self)


def _inverse_softplus(value: float) -> float:
    return value + math.log(-math.expm1(-value))


class AlphaEncoder(nn.Module):
    """g_φ: the LoRA bottleneck ``u`` (…, r) → α (…, r) or (…, 1); or a learned input-independent α."""

    def __init__(self, rank: int, config: BaLoRAConfig) -> None:
        super().__init__()
        self.alpha_min = config.alpha_min
        self.mode = config.alpha_mode
        start = _inverse_softplus(config.alpha_init - config.alpha_min)
        if config.alpha_mode == "fixed":
            self.raw = nn.Parameter(torch.full((rank,), start))
            return
        out = rank if config.alpha_mode == "rank" else 1
        self.net = nn.Sequential(nn.Linear(rank, config.hidden), nn.SiLU(), nn.Linear(config.hidden, out))
        nn.init.zeros_(self.net[2].weight)
        nn.init.constant_(self.net[2].bias, start)

    def forward(self, u: Tensor) -> Tensor:
        raw = self.raw.expand(u.shape) if self.mode == "fixed" else self.net(u)
        return nn.functional.softplus(raw) + self.alpha_min


def kl_per_weight(alpha: Tensor, prior: Prior) -> Tensor:
    """KL(q‖p) of one weight with multiplicative variance α, elementwise; ``alpha`` is (rows, components)."""
    if prior == "log_uniform":
        negative_kl = K1 * torch.sigmoid(K2 + K3 * torch.log(alpha)) - 0.5 * torch.log1p(1.0 / alpha) - K1
        return -negative_kl
    mean_alpha = alpha.mean(0, keepdim=True)
    return 0.5 * torch.log(mean_alpha / alpha) + alpha / (2.0 * mean_alpha) - 0.5


class BaLoRALinear(LoRALinear):
    """A frozen linear layer plus a BaLoRA update (see the module docstring).

    Args:
        base: the layer to adapt.
        rank: r.
        lora_alpha: scaling numerator (``s = lora_alpha / r``).
        config: BaLoRA variant.
        alpha_encoder: a g_φ shared with other layers; ``None`` makes one for this layer.
        owns_encoder: whether this layer registers (and so saves) the shared ``alpha_encoder``; the
            other layers sharing it only refer to it.
    """

    def __init__(
        self, base: nn.Linear, *, rank: int, lora_alpha: float, config: BaLoRAConfig,
        alpha_encoder: AlphaEncoder | None = None, owns_encoder: bool = True,
    ) -> None:
        super().__init__(base, rank=rank, lora_alpha=lora_alpha)
        self.config = config
        encoder = alpha_encoder if alpha_encoder is not None else AlphaEncoder(rank, config)
        if owns_encoder:
            self.alpha_encoder = encoder.to(base.weight.device)
        else:
            object.__setattr__(self, "alpha_encoder", encoder)
        self.stochastic = True
        self.last_kl: Tensor | None = None
        self.last_alpha: Tensor | None = None

    def _weights_per_component(self) -> int:
        site = self.config.noise_site
        return {"A": self.in_features, "B": self.out_features, "both": self.in_features + self.out_features,
                "bottleneck": 1}[site]

    def update(self, x: Tensor) -> Tensor:
        x = self.adapter_input(x)
        u = x @ self.lora_A.T
        if not self.stochastic:
            self.last_kl = None
            return self.scaling * u @ self.lora_B.T
        alpha = self.alpha_encoder(u)
        self.last_alpha = alpha.detach()
        site = self.config.noise_site
        z = u
        if site in ("A", "both"):
            variance = alpha * ((x * x) @ (self.lora_A * self.lora_A).T)
            z = u + torch.sqrt(variance + 1e-12) * torch.randn_like(u)
        elif site == "bottleneck":
            z = u * (1.0 + torch.sqrt(alpha) * torch.randn_like(u))
        out = z @ self.lora_B.T
        if site in ("B", "both"):
            variance = (z * z * alpha) @ (self.lora_B * self.lora_B).T
            out = out + torch.sqrt(variance + 1e-12) * torch.randn_like(out)
        kl = kl_per_weight(alpha.reshape(-1, alpha.shape[-1]), self.config.prior)
        components = self.rank if alpha.shape[-1] == 1 else 1
        self.last_kl = kl.sum(-1).mean() * components * self._weights_per_component()
        return self.scaling * out
