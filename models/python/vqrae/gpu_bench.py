"""Encoder throughput and MFU on one GPU, to size the Java pipeline around it.

Runs the VQRAE encoder + quantizer (the work of the encoder graph the job runs, :func:`encode`) in PyTorch on
pre-made uint8 batches already on the device, at each batch size and precision, and prints images/s and the
model FLOPs utilisation (MFU): images/s x FLOPs per image / the device's peak dense FLOP/s. FLOPs per image are
the manifest's ``encoder_flops_per_image`` (:func:`vqrae.export.encoder_flops`). Random weights are enough:
throughput does not depend on them. A prepared run of at most 10 minutes on one GPU::

    PYTHONPATH=models/python python3 -m vqrae.gpu_bench --config so400m-256 \\
        --batches 32 64 128 256 512 --dtypes bf16 fp16 --seconds 8 --json out/gpu-bench.json

``--pipeline-ceiling N`` (images/s per CPU core of the whole job with the null model, from ``vqrae bench``)
adds how many decode cores one GPU needs at the best rate measured. ``--device cpu`` runs the same code on the
CPU (to try the script, not to measure).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import torch

from .config import get_config
from .export import encoder_flops
from .model import VQRAE, SimVQ, build_model, codebook_squared_norms

# Peak dense tensor-core FLOP/s (no sparsity) for bf16/fp16, by device name fragment; --peak-tflops overrides.
PEAK_TFLOPS = {
    "H200": 989.0,
    "H100 SXM": 989.0,
    "H100 PCIe": 756.0,
    "H100": 989.0,
    "A100": 312.0,
    "L40S": 362.0,
    "L4": 121.0,
    "A10": 125.0,
}
DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}


def peak_tflops(device: torch.device, override: Optional[float]) -> Optional[float]:
    if override is not None:
        return override
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    for fragment, tflops in PEAK_TFLOPS.items():
        if fragment in name:
            return tflops
    return None


def encode(model: VQRAE, pixels: torch.Tensor, codebook: Tuple[torch.Tensor, torch.Tensor]):
    """The exported encoder graph's work: the ViT in the model's dtype, the codebook search in float32 (as in
    the float16 graph, whose quantizer branch stays float32 so the argmin does not flip on rounding)."""
    features, z = model.quantizer_input(pixels)
    token_ids, quant_error = SimVQ.search(z.float(), *codebook)
    return features, token_ids, quant_error


def measure(model: VQRAE, pixels: torch.Tensor, seconds: float) -> float:
    """Images/s of :func:`encode` on ``pixels``, after two warm-up runs, synchronised per run."""
    device = pixels.device
    with torch.inference_mode():
        codebook = model.effective_codebook().to(device)
        codebook = (codebook, codebook_squared_norms(codebook))
        for _ in range(2):
            encode(model, pixels, codebook)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        runs, start = 0, time.perf_counter()
        while True:
            encode(model, pixels, codebook)
            runs += 1
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                return runs * pixels.shape[0] / elapsed


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vqrae.gpu_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="so400m-256")
    parser.add_argument("--batches", type=int, nargs="+", default=[32, 64, 128, 256, 512])
    parser.add_argument("--dtypes", nargs="+", choices=sorted(DTYPES), default=["bf16", "fp16"])
    parser.add_argument("--seconds", type=float, default=8.0, help="timed seconds per batch size and dtype")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--peak-tflops", type=float, help="the device's peak dense TFLOP/s (default: by name)")
    parser.add_argument("--pipeline-ceiling", type=float,
                        help="the job's null-model images/s per CPU core (vqrae bench, part 3)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("gpu_bench: no CUDA device visible (use --device cpu to try the script)", file=sys.stderr)
        return 1
    config = get_config(args.config)
    flops = encoder_flops(config)
    peak = peak_tflops(device, args.peak_tflops)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"{config.name} encoder: {flops / 1e9:.1f} GFLOP per image; device {name}"
          + (f", peak {peak:.0f} TFLOP/s dense" if peak else ", peak unknown (--peak-tflops)"))
    print("| dtype | batch | images/s | TFLOP/s | MFU | peak memory GiB |")
    print("|---|---|---|---|---|---|")
    torch.manual_seed(0)
    results: List[Dict[str, object]] = []
    for dtype_name in args.dtypes:
        model = build_model(config, 0, data_codebook=False).to(device=device, dtype=DTYPES[dtype_name]).eval()
        for batch in args.batches:
            pixels = torch.randint(0, 256, (batch, 3, config.image_size, config.image_size), dtype=torch.uint8,
                                   device=device)
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(device)
            try:
                rate = measure(model, pixels, args.seconds)
            except torch.cuda.OutOfMemoryError:
                print(f"| {dtype_name} | {batch} | out of memory | | | |")
                break
            memory = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else math.nan
            tflops = rate * flops / 1e12
            mfu = tflops / peak if peak else math.nan
            results.append({"dtype": dtype_name, "batch": batch, "images_per_second": rate, "tflops": tflops,
                            "mfu": mfu, "peak_memory_gib": memory})
            print(f"| {dtype_name} | {batch} | {rate:.0f} | {tflops:.1f} | {mfu:.1%} | {memory:.1f} |", flush=True)
            del pixels
        del model
        if device.type == "cuda":
            torch.cuda.empty_cache()
    summary: Dict[str, object] = {"config": config.name, "device": name, "gflop_per_image": flops / 1e9,
                                  "peak_tflops": peak, "results": results}
    if results:
        best = max(results, key=lambda r: r["images_per_second"])
        summary["best"] = best
        line = f"best: {best['dtype']} batch {best['batch']}, {best['images_per_second']:.0f} images/s"
        if args.pipeline_ceiling:
            cores = best["images_per_second"] / args.pipeline_ceiling
            summary["decode_cores_per_gpu"] = cores
            line += f"; at {args.pipeline_ceiling:.0f} images/s per core the pipeline needs {math.ceil(cores)} CPU cores per GPU"
        print(line)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
