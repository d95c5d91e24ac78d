"""Model configuration for VQRAE (SigLIP2-style ViT encoder + SimVQ quantizer + ViT decoder).

The configuration is a frozen dataclass so it can be hashed, compared and serialised into the model
manifest (``manifest.json`` -> ``config``) and read back with :meth:`VQRAEConfig.from_dict`.
Decoder fields left as ``None`` mirror the encoder (width, depth, heads, MLP size).
"""

from dataclasses import asdict, dataclass, fields
from typing import Any, Dict, Optional, Tuple

QUANTIZE_FROM = ("post_norm", "last_layer")
RESIZE_FILTERS = ("bilinear", "bicubic")
CROPS = ("none", "center")


@dataclass(frozen=True)
class VQRAEConfig:
    """Topology, quantizer and preprocessing policy of one VQRAE variant.

    ``quantize_from`` selects which encoder features feed the quantizer: ``"post_norm"`` (the output
    of the final post-LayerNorm, the default) or ``"last_layer"`` (the last transformer block's output,
    before the post-LayerNorm). The paper leaves this open. The ``features`` output of the encoder is
    always the post-LayerNorm output (SigLIP's ``last_hidden_state``).
    ``proj_bias`` switches the bias of both ``quant_proj`` (d -> code_dim) and ``post_quant_proj``
    (code_dim -> decoder width).
    """

    name: str
    image_size: int
    patch_size: int
    width: int
    depth: int
    heads: int
    mlp_dim: int
    codebook_size: int
    code_dim: int
    layer_norm_eps: float = 1e-6
    decoder_width: Optional[int] = None
    decoder_depth: Optional[int] = None
    decoder_heads: Optional[int] = None
    decoder_mlp_dim: Optional[int] = None
    quantize_from: str = "post_norm"
    proj_bias: bool = True
    resize_filter: str = "bilinear"
    crop: str = "none"
    mean: Tuple[float, float, float] = (0.5, 0.5, 0.5)
    std: Tuple[float, float, float] = (0.5, 0.5, 0.5)

    def __post_init__(self) -> None:
        mirrored = {
            "decoder_width": self.width,
            "decoder_depth": self.depth,
            "decoder_heads": self.heads,
            "decoder_mlp_dim": self.mlp_dim,
        }
        for field_name, encoder_value in mirrored.items():
            if getattr(self, field_name) is None:
                object.__setattr__(self, field_name, encoder_value)
        object.__setattr__(self, "mean", tuple(float(v) for v in self.mean))
        object.__setattr__(self, "std", tuple(float(v) for v in self.std))
        self._validate()

    def _validate(self) -> None:
        if self.image_size % self.patch_size != 0:
            raise ValueError(f"image_size {self.image_size} is not a multiple of patch_size {self.patch_size}")
        if self.width % self.heads != 0:
            raise ValueError(f"width {self.width} is not divisible by heads {self.heads}")
        if self.decoder_width % self.decoder_heads != 0:
            raise ValueError(f"decoder_width {self.decoder_width} is not divisible by decoder_heads {self.decoder_heads}")
        if self.quantize_from not in QUANTIZE_FROM:
            raise ValueError(f"quantize_from must be one of {QUANTIZE_FROM}, got {self.quantize_from!r}")
        if self.resize_filter not in RESIZE_FILTERS:
            raise ValueError(f"resize_filter must be one of {RESIZE_FILTERS}, got {self.resize_filter!r}")
        if self.crop not in CROPS:
            raise ValueError(f"crop must be one of {CROPS}, got {self.crop!r}")
        if len(self.mean) != 3 or len(self.std) != 3 or min(self.std) <= 0:
            raise ValueError("mean and std must have 3 entries and std must be positive")
        for field_name in ("image_size", "patch_size", "width", "depth", "heads", "mlp_dim", "codebook_size", "code_dim"):
            if getattr(self, field_name) <= 0:
                raise ValueError(f"{field_name} must be positive")

    @property
    def grid_size(self) -> int:
        """Tokens per side: image_size // patch_size."""
        return self.image_size // self.patch_size

    @property
    def num_tokens(self) -> int:
        """Tokens per image (grid_size ** 2)."""
        return self.grid_size * self.grid_size

    def to_dict(self) -> Dict[str, Any]:
        """JSON-ready dict with every field (decoder fields resolved, tuples as lists)."""
        data = asdict(self)
        data["mean"] = list(self.mean)
        data["std"] = list(self.std)
        return data

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "VQRAEConfig":
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown VQRAEConfig keys: {unknown}")
        values = dict(data)
        for key in ("mean", "std"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)


def _so400m(name: str, image_size: int) -> VQRAEConfig:
    return VQRAEConfig(
        name=name,
        image_size=image_size,
        patch_size=16,
        width=1152,
        depth=27,
        heads=16,
        mlp_dim=4304,
        codebook_size=16384,
        code_dim=1536,
    )


PRESETS: Dict[str, VQRAEConfig] = {
    "so400m-256": _so400m("so400m-256", 256),
    "so400m-512": _so400m("so400m-512", 512),
    "tiny": VQRAEConfig(
        name="tiny",
        image_size=256,
        patch_size=16,
        width=128,
        depth=2,
        heads=4,
        mlp_dim=512,
        codebook_size=256,
        code_dim=256,
        decoder_depth=4,
    ),
}


def get_config(name: str) -> VQRAEConfig:
    """Return the preset called ``name`` (``so400m-256``, ``so400m-512`` or ``tiny``)."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown config {name!r}; presets: {sorted(PRESETS)}") from None
