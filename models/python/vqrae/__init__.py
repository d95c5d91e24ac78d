"""VQRAE (SigLIP2 ViT encoder + SimVQ quantizer + ViT decoder) in PyTorch, with ONNX export.

Modules: ``config`` (presets), ``model`` (the network and its deterministic init), ``checkpoint``
(.pt/.safetensors I/O and the key layout), ``export`` (ONNX graphs + manifest CLI), ``fp16`` (ONNX
float16 rewrite), ``reference`` (PyTorch reference CLI for parity tests), ``train`` (the training
recipe), ``evaluate`` (held-out PSNR/SSIM/codebook utilisation), ``data`` (training photos and the
hold-out split) and ``metrics`` (PSNR, SSIM).
"""

from .config import PRESETS, VQRAEConfig, get_config
from .model import VQRAE, build_model

__all__ = ["PRESETS", "VQRAE", "VQRAEConfig", "build_model", "get_config"]
