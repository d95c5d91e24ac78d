"""VQRAE in PyTorch: SigLIP2-style ViT encoder, SimVQ quantizer, ViT pixel decoder.

Parameter names follow the checkpoint key layout documented in ``models/README.md``:
the encoder uses Hugging Face ``SiglipVisionModel`` names under ``vision_model.``, the quantizer uses
SimVQ names under ``quantize.`` and the decoder lives under ``decoder.``. ``state_dict()`` therefore
*is* the checkpoint layout.

Pixels cross the model boundary as uint8 ``[B, 3, H, W]``; normalisation (``x / 255``, then
``(x - mean) / std``) and de-normalisation happen inside the model so the exported ONNX graphs carry
them too. Attention is written with plain matmul/softmax so it exports to ONNX opset 17 with torch 1.13.
"""

import math
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .config import VQRAEConfig


class Attention(nn.Module):
    """Multi-head self-attention with biased q/k/v/out projections (SigLIP ``self_attn``)."""

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.head_dim = width // heads
        self.scale = self.head_dim ** -0.5
        self.q_proj = nn.Linear(width, width)
        self.k_proj = nn.Linear(width, width)
        self.v_proj = nn.Linear(width, width)
        self.out_proj = nn.Linear(width, width)

    def _split_heads(self, x: Tensor) -> Tensor:
        batch, tokens, _ = x.shape
        return x.reshape(batch, tokens, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x: Tensor) -> Tensor:
        batch, tokens, width = x.shape
        q = self._split_heads(self.q_proj(x))
        k = self._split_heads(self.k_proj(x))
        v = self._split_heads(self.v_proj(x))
        weights = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * self.scale, dim=-1)
        out = torch.matmul(weights, v).transpose(1, 2).reshape(batch, tokens, width)
        return self.out_proj(out)


class MLP(nn.Module):
    """Two-layer MLP with tanh-approximated GELU (SigLIP ``mlp``)."""

    def __init__(self, width: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(width, hidden)
        self.fc2 = nn.Linear(hidden, width)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(F.gelu(self.fc1(x), approximate="tanh"))


class EncoderLayer(nn.Module):
    """Pre-LayerNorm transformer block (SigLIP ``encoder.layers.{i}``)."""

    def __init__(self, width: int, heads: int, mlp_dim: int, eps: float) -> None:
        super().__init__()
        self.layer_norm1 = nn.LayerNorm(width, eps=eps)
        self.self_attn = Attention(width, heads)
        self.layer_norm2 = nn.LayerNorm(width, eps=eps)
        self.mlp = MLP(width, mlp_dim)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.self_attn(self.layer_norm1(x))
        return x + self.mlp(self.layer_norm2(x))


class Embeddings(nn.Module):
    """Conv patch embedding (stride = patch) plus learned position embedding ``[N, d]``."""

    def __init__(self, config: VQRAEConfig) -> None:
        super().__init__()
        p = config.patch_size
        self.patch_embedding = nn.Conv2d(3, config.width, kernel_size=p, stride=p)
        self.position_embedding = nn.Embedding(config.num_tokens, config.width)

    def forward(self, x: Tensor) -> Tensor:
        patches = self.patch_embedding(x).flatten(2).transpose(1, 2)
        return patches + self.position_embedding.weight.unsqueeze(0)


class Encoder(nn.Module):
    def __init__(self, config: VQRAEConfig) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            EncoderLayer(config.width, config.heads, config.mlp_dim, config.layer_norm_eps)
            for _ in range(config.depth)
        )

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


class VisionModel(nn.Module):
    """SigLIP vision tower without pooling head (``vision_model.*``)."""

    def __init__(self, config: VQRAEConfig) -> None:
        super().__init__()
        self.embeddings = Embeddings(config)
        self.encoder = Encoder(config)
        self.post_layernorm = nn.LayerNorm(config.width, eps=config.layer_norm_eps)

    def forward(self, x: Tensor) -> Tuple[Tensor, Tensor]:
        """Return ``(last_layer, post_norm)`` token features, both ``[B, N, d]``."""
        last = self.encoder(self.embeddings(x))
        return last, self.post_layernorm(last)


class DecoderEmbeddings(nn.Module):
    def __init__(self, num_tokens: int, width: int) -> None:
        super().__init__()
        self.position_embedding = nn.Embedding(num_tokens, width)


class Decoder(nn.Module):
    """ViT pixel decoder (``decoder.*``): learned positions, pre-LN blocks, final LayerNorm, pixel head."""

    def __init__(self, config: VQRAEConfig) -> None:
        super().__init__()
        p = config.patch_size
        self.embeddings = DecoderEmbeddings(config.num_tokens, config.decoder_width)
        self.layers = nn.ModuleList(
            EncoderLayer(config.decoder_width, config.decoder_heads, config.decoder_mlp_dim, config.layer_norm_eps)
            for _ in range(config.decoder_depth)
        )
        self.post_layernorm = nn.LayerNorm(config.decoder_width, eps=config.layer_norm_eps)
        self.pixel_head = nn.Linear(config.decoder_width, p * p * 3)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.embeddings.position_embedding.weight.unsqueeze(0)
        for layer in self.layers:
            x = layer(x)
        return self.pixel_head(self.post_layernorm(x))


class SimVQ(nn.Module):
    """SimVQ quantizer: frozen stored codebook E ``[K, D]`` and a linear map giving C' = E W^T + b."""

    def __init__(self, codebook_size: int, code_dim: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(codebook_size, code_dim)
        self.embedding.weight.requires_grad_(False)
        self.embedding_proj = nn.Linear(code_dim, code_dim)

    def effective_codebook(self) -> Tensor:
        """C' = Linear(E) as float32 ``[K, D]``.

        Computed in float64 and rounded once to float32, so C' (and its SHA-256 in the manifest) does
        not depend on the float32 GEMM kernel of the machine that computes it.
        """
        weight = self.embedding_proj.weight.detach().double()
        bias = self.embedding_proj.bias.detach().double()
        return F.linear(self.embedding.weight.detach().double(), weight, bias).float()

    @staticmethod
    def search(z: Tensor, codebook: Tensor, codebook_sq: Tensor) -> Tuple[Tensor, Tensor]:
        """Nearest code by squared L2 distance ``||z||^2 + ||c'||^2 - 2 z.c'``.

        Returns ``(token_ids [B, N] int64, quant_error [B, N] float32)`` where ``quant_error`` is the
        minimum distance clamped at 0 (the expansion can go slightly negative in float arithmetic).
        """
        distances = (z * z).sum(dim=-1, keepdim=True) + codebook_sq - 2.0 * torch.matmul(z, codebook.t())
        min_distance, token_ids = torch.min(distances, dim=-1)
        return token_ids, torch.relu(min_distance)  # clamp at 0 (exports as Relu)


def codebook_squared_norms(codebook: Tensor) -> Tensor:
    """``||c'||^2`` per code, float32 ``[K]`` (summed in float64 for machine-independent bits)."""
    return (codebook.double() ** 2).sum(dim=-1).float()


class VQRAE(nn.Module):
    """Image -> (features, token ids, quantization error) and token ids -> image."""

    def __init__(self, config: VQRAEConfig) -> None:
        super().__init__()
        self.config = config
        self.vision_model = VisionModel(config)
        self.quant_proj = nn.Linear(config.width, config.code_dim, bias=config.proj_bias)
        self.quantize = SimVQ(config.codebook_size, config.code_dim)
        self.post_quant_proj = nn.Linear(config.code_dim, config.decoder_width, bias=config.proj_bias)
        self.decoder = Decoder(config)
        self.register_buffer("pixel_mean", torch.tensor(config.mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("pixel_std", torch.tensor(config.std).view(1, 3, 1, 1), persistent=False)

    def effective_codebook(self) -> Tensor:
        """The codebook the tokens index: C' ``[K, code_dim]`` float32."""
        return self.quantize.effective_codebook()

    def normalize(self, pixels: Tensor) -> Tensor:
        """uint8 ``[B, 3, H, W]`` -> float32 ``(x / 255 - mean) / std``."""
        return (pixels.to(self.pixel_mean.dtype) / 255.0 - self.pixel_mean) / self.pixel_std

    def quantizer_input(self, pixels: Tensor) -> Tuple[Tensor, Tensor]:
        """Return ``(features, z)``: post-LN encoder features and the projected quantizer input."""
        last, post = self.vision_model(self.normalize(pixels))
        source = post if self.config.quantize_from == "post_norm" else last
        return post, self.quant_proj(source)

    def encode(
        self, pixels: Tensor, codebook: Optional[Tuple[Tensor, Tensor]] = None
    ) -> Tuple[Tensor, Tensor, Tensor]:
        """uint8 pixels ``[B, 3, H, W]`` -> ``(features [B,N,d] f32, token_ids [B,N] i64, quant_error [B,N] f32)``.

        ``codebook`` optionally passes a precomputed ``(C', ||C'||^2)`` pair (the ONNX export stores
        them as constants); by default they are computed from the quantizer weights.
        """
        features, z = self.quantizer_input(pixels)
        if codebook is None:
            effective = self.effective_codebook()
            codebook = (effective, codebook_squared_norms(effective))
        token_ids, quant_error = SimVQ.search(z, codebook[0], codebook[1])
        return features, token_ids, quant_error

    def decode(self, token_ids: Tensor, codebook: Optional[Tensor] = None) -> Tensor:
        """int64 token ids ``[B, N]`` -> uint8 pixels ``[B, 3, H, W]``; looks codes up in C' (never E)."""
        if codebook is None:
            codebook = self.effective_codebook()
        z_q = F.embedding(token_ids, codebook)
        patches = self.decoder(self.post_quant_proj(z_q))
        image = self.unpatchify(patches)
        pixels = torch.round((image * self.pixel_std + self.pixel_mean) * 255.0)
        return torch.clamp(pixels, 0.0, 255.0).to(torch.uint8)

    def unpatchify(self, patches: Tensor) -> Tensor:
        """``[B, N, p*p*3]`` (per-token order: row-in-patch, column-in-patch, channel) -> ``[B, 3, H, W]``."""
        g = self.config.grid_size
        p = self.config.patch_size
        x = patches.reshape(patches.shape[0], g, g, p, p, 3)
        return x.permute(0, 5, 1, 3, 2, 4).reshape(patches.shape[0], 3, g * p, g * p)


# --- Deterministic initialisation (tiny model) -------------------------------------------------------

INIT_STD = 0.02
INIT_SAMPLE_IMAGES = 16


def _portable_normal(shape: Tuple[int, ...], std: float) -> Tensor:
    """Approximately normal, bounded (|x| <= 3.47 std) samples from the global Mersenne-Twister stream.

    Sum of 4 uniforms (Irwin-Hall), rescaled to unit variance. Only ``torch.rand`` and IEEE add/mul are
    used, so the bits do not depend on the CPU's vectorised ``erfinv``/``log`` kernels and the tiny
    weights are reproducible on any machine.
    """
    u = torch.rand((4,) + tuple(shape), dtype=torch.float64)
    total = ((u[0] + u[1]) + u[2]) + u[3]
    return ((total - 2.0) * (math.sqrt(3.0) * std)).float()


def synthetic_images(count: int, size: int) -> Tensor:
    """``count`` uint8 ``[3, size, size]`` images of colour gradients, rectangles and noise.

    Drawn from the global RNG with exact arithmetic only; used to place the tiny codebook on the
    feature distribution (see :func:`initialize_weights`).
    """
    ramp = torch.arange(size, dtype=torch.float64) / (size - 1)
    ys, xs = ramp.view(size, 1), ramp.view(1, size)
    images = []
    for _ in range(count):
        coeffs = torch.rand(3, 3, dtype=torch.float64) * 255.0
        image = torch.stack([(c[0] + (c[1] - 127.5) * xs + (c[2] - 127.5) * ys).expand(size, size) for c in coeffs])
        for _ in range(4):
            corners = (torch.rand(4) * size).long().tolist()
            y0, y1 = sorted(corners[:2])
            x0, x1 = sorted(corners[2:])
            image[:, y0:y1 + 1, x0:x1 + 1] = (torch.rand(3, 1, 1, dtype=torch.float64) * 255.0)
        image = image + (torch.rand(3, size, size, dtype=torch.float64) - 0.5) * 64.0
        images.append(torch.clamp(image, 0.0, 255.0).floor().to(torch.uint8))
    return torch.stack(images)


@torch.no_grad()
def initialize_weights(model: VQRAE, seed: int, data_codebook: bool = True) -> VQRAE:
    """Deterministic initialisation from ``seed`` (the tiny artifacts use seed 0).

    * Linear / conv weights and position embeddings: portable approximately-normal, std 0.02; biases 0.
    * LayerNorms: weight 1, bias 0.
    * SimVQ ``embedding_proj``: identity + std-0.02 noise, bias 0 (invertible, so C' != E).
    * Stored codebook E: data-dependent, so every code sits on the feature distribution (small
      ``quant_error``; code usage follows image content rather than code norms). The quantizer inputs
      z of ``INIT_SAMPLE_IMAGES`` synthetic images are computed (in float64, for machine-independent
      bits), ``codebook_size`` of their tokens are drawn without replacement and E is solved so that
      C' = Linear(E) equals those z.

    ``data_codebook=False`` is the benchmark initialisation: every weight from ``torch.randn`` (std 0.02,
    E std 1) and no encoder run, so a random-weights so400m is made in seconds rather than an hour. Its
    token ids carry no meaning and its bits depend on the machine's RNG kernels.

    The global RNG state is restored afterwards.
    """
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        if not data_codebook:
            return _random_weights(model)
        for name, module in model.named_modules():
            if isinstance(module, (nn.Linear, nn.Conv2d)):
                module.weight.copy_(_portable_normal(module.weight.shape, INIT_STD))
                if module.bias is not None:
                    module.bias.zero_()
            elif isinstance(module, nn.LayerNorm):
                module.weight.fill_(1.0)
                module.bias.zero_()
            elif isinstance(module, nn.Embedding) and name.endswith("position_embedding"):
                module.weight.copy_(_portable_normal(module.weight.shape, INIT_STD))
        proj = model.quantize.embedding_proj
        code_dim = model.config.code_dim
        proj.weight.copy_(torch.eye(code_dim) + _portable_normal((code_dim, code_dim), INIT_STD))
        proj.bias.zero_()

        images = synthetic_images(INIT_SAMPLE_IMAGES, model.config.image_size)
        model_f64 = _float64_copy(model)
        z = model_f64.quantizer_input(images)[1].reshape(-1, code_dim)
        if z.shape[0] < model.config.codebook_size:
            raise ValueError("INIT_SAMPLE_IMAGES too small for the codebook size")
        picked = z[torch.randperm(z.shape[0])[: model.config.codebook_size]]
        # C' = E W^T + b = picked  <=>  W E^T = (picked - b)^T
        stored = torch.linalg.solve(proj.weight.double(), (picked - proj.bias.double()).t()).t()
        model.quantize.embedding.weight.copy_(stored.float())
    return model


def _random_weights(model: VQRAE) -> VQRAE:
    for name, module in model.named_modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)) or (isinstance(module, nn.Embedding) and name.endswith("position_embedding")):
            module.weight.normal_(0.0, INIT_STD)
            if getattr(module, "bias", None) is not None:
                module.bias.zero_()
        elif isinstance(module, nn.LayerNorm):
            module.weight.fill_(1.0)
            module.bias.zero_()
    proj = model.quantize.embedding_proj
    proj.weight.copy_(torch.eye(model.config.code_dim)).add_(torch.randn_like(proj.weight), alpha=INIT_STD)
    proj.bias.zero_()
    model.quantize.embedding.weight.normal_(0.0, 1.0)
    return model


def _float64_copy(model: VQRAE) -> VQRAE:
    copy = VQRAE(model.config)
    copy.load_state_dict(model.state_dict())
    return copy.double().eval()


def build_model(config: VQRAEConfig, seed: int, data_codebook: bool = True) -> VQRAE:
    """A freshly initialised model in eval mode (see :func:`initialize_weights`)."""
    return initialize_weights(VQRAE(config), seed, data_codebook).eval()
