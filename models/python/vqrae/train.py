"""Train VQRAE with the paper's two-stage recipe (plus a stage 0 when no pretrained encoder exists).

Usage (from the repository root)::

    # the shipped tiny model: stages 0, 1, 2 on CPU, then export to models/tiny
    PYTHONPATH=models/python /usr/bin/python3 -m vqrae.train --config tiny --out runs/tiny \\
        --export models/tiny --model-version 0.2.0
    # a real model: SigLIP2 encoder weights (Hugging Face layout), stages 1 and 2, on GPUs
    torchrun --nproc_per_node 8 -m vqrae.train --config so400m-256 --out runs/so400m \\
        --encoder-checkpoint siglip2-so400m-patch16-256/model.safetensors --export DIR

Stages (each a fixed number of steps of its own, ``--steps0/1/2``; ``--stages`` picks which run):

* **stage 0** (only without ``--encoder-checkpoint``): a plain autoencoder, encoder -> ``quant_proj`` ->
  ``post_quant_proj`` -> decoder with no quantizer, trained with the pixel loss. It stands in for the
  pretrained SigLIP2 encoder that cannot be fetched here; its features are *not* semantic.
* **stage 1** (paper): encoder frozen. The codebook is initialised on the data (k-means of quantizer
  inputs of training crops; ``E`` set so that C' = E W^T + b equals the centroids), then ``quant_proj``,
  the SimVQ projection ``W, b``, ``post_quant_proj`` and the decoder train with the pixel loss and the
  VQ losses. ``E`` itself stays frozen (SimVQ); codes unused, or used less than ``--restart-below``
  times the mean usage, during the last ``--restart-every`` steps are restarted on current quantizer
  inputs by rewriting their rows of ``E`` (not in the last 10 % of a stage).
* **stage 2** (paper): everything but ``E`` trains end to end (straight-through estimator) with the
  pixel and VQ losses plus the self-distillation loss ``--distill-weight * MSE(features, features of the
  frozen stage-1 encoder)`` on the post-LayerNorm features.

Losses: pixel loss = ``L1 + L2`` on [0, 1] pixels ``+ --ssim-weight * (1 - SSIM)`` (SSIM of the BT.601
luma, window as in :mod:`vqrae.metrics`; the structural term stands in for a perceptual loss, no LPIPS/VGG weights exist on
these machines); VQ losses (SimVQ/VQ-VAE) = ``MSE(C'[id], sg(z)) + --commit-weight * MSE(z, sg(C'[id]))``.

Runs are deterministic for a given seed and machine (data sampling uses per-stage, per-rank NumPy
generators whose state is checkpointed). ``OUT/last.pt`` is written every ``--save-every`` steps and
at each stage end; ``--resume`` continues from it. ``OUT/history.json`` holds the loss log and the
held-out evaluation after each stage, ``OUT/losses.png`` the loss curves, ``OUT/model.safetensors``
the final weights (key layout of ``models/README.md``). On CUDA the forward pass runs under bf16
autocast (the codebook search in float32); under ``torchrun`` (``WORLD_SIZE > 1``) it trains with
DistributedDataParallel.
"""

import argparse
import contextlib
import copy
import dataclasses
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .checkpoint import load_encoder_checkpoint, save_safetensors
from .config import VQRAEConfig, get_config
from .data import CropSampler, default_split, load_eval_images
from .metrics import luma, psnr, ssim
from .model import VQRAE, build_model


@dataclasses.dataclass(frozen=True)
class Recipe:
    """Per-preset training hyper-parameters (overridable from the command line)."""

    batch_size: int  # per process
    steps0: int
    steps1: int
    steps2: int
    lr0: float
    lr1: float
    lr2: float
    warmup: int
    weight_decay: float = 0.01
    l1_weight: float = 1.0
    l2_weight: float = 1.0
    ssim_weight: float = 0.2
    commit_weight: float = 0.25
    distill_weight: float = 1.0
    restart_every: int = 50
    restart_below: float = 0.1  # restart codes used less than this fraction of the mean usage
    kmeans_batches: int = 8
    save_every: int = 200
    log_every: int = 10
    cache_side: int = 768


RECIPES: Dict[str, Recipe] = {
    # CPU, 2 cores, under an hour in all
    "tiny": Recipe(batch_size=16, steps0=350, steps1=800, steps2=150, lr0=1e-3, lr1=1e-3, lr2=2e-4, warmup=50),
    # GPUs (bf16); batch per process
    "so400m-256": Recipe(batch_size=32, steps0=20000, steps1=100000, steps2=50000, lr0=2e-4, lr1=2e-4, lr2=5e-5,
                         warmup=2000, restart_every=1000, kmeans_batches=64, save_every=2000, log_every=50,
                         cache_side=1024),
    "so400m-512": Recipe(batch_size=16, steps0=20000, steps1=100000, steps2=50000, lr0=2e-4, lr1=2e-4, lr2=5e-5,
                         warmup=2000, restart_every=1000, kmeans_batches=64, save_every=2000, log_every=50,
                         cache_side=1024),
}


def bf16_autocast(enabled: bool):
    """bf16 autocast on CUDA; a no-op elsewhere (CPU training stays float32)."""
    return torch.autocast("cuda", dtype=torch.bfloat16) if enabled else contextlib.nullcontext()


def float32_region(enabled: bool):
    return torch.autocast("cuda", enabled=False) if enabled else contextlib.nullcontext()


# --- distributed helpers ----------------------------------------------------------------------------


class Dist:
    def __init__(self, device_arg: str) -> None:
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", "0"))
        if device_arg == "auto":
            device_arg = "cuda" if torch.cuda.is_available() else "cpu"
        if device_arg == "cuda":
            torch.cuda.set_device(local)
            self.device = torch.device("cuda", local)
        else:
            self.device = torch.device(device_arg)
        if self.world > 1:
            import torch.distributed as dist

            dist.init_process_group("nccl" if self.device.type == "cuda" else "gloo")

    @property
    def main(self) -> bool:
        return self.rank == 0

    def all_sum(self, tensor: Tensor) -> Tensor:
        if self.world > 1:
            import torch.distributed as dist

            dist.all_reduce(tensor)
        return tensor

    def broadcast(self, tensor: Tensor) -> Tensor:
        if self.world > 1:
            import torch.distributed as dist

            dist.broadcast(tensor, 0)
        return tensor

    def barrier(self) -> None:
        if self.world > 1:
            import torch.distributed as dist

            dist.barrier()


# --- the training step as a module (so DDP can wrap it) ---------------------------------------------


class TrainStep(nn.Module):
    """Computes the losses of one stage for a uint8 batch; returns ``(total, parts, token_ids, z)``."""

    def __init__(self, model: VQRAE, recipe: Recipe, teacher: Optional[nn.Module] = None) -> None:
        super().__init__()
        self.model = model
        self.recipe = recipe
        self.teacher = teacher
        self.stage = 0

    def pixel_loss(self, recon: Tensor, target: Tensor) -> Dict[str, Tensor]:
        """``recon``/``target`` in [0, 1]."""
        recon = recon.float()
        l1 = (recon - target).abs().mean()
        l2 = ((recon - target) ** 2).mean()
        s = ssim(luma(recon), luma(target), data_range=1.0).mean()  # luma only: 3x cheaper on CPU
        r = self.recipe
        return {"l1": l1, "l2": l2, "ssim": s, "pixel": r.l1_weight * l1 + r.l2_weight * l2 + r.ssim_weight * (1.0 - s)}

    def forward(self, pixels: Tensor):
        m = self.model
        autocast = bf16_autocast(pixels.is_cuda)
        parts: Dict[str, Tensor] = {}
        token_ids = None
        with autocast:
            post, z = m.quantizer_input(pixels)
            if self.stage == 0:
                zq = z
            else:
                with float32_region(pixels.is_cuda):
                    zf = z.float()
                    quant = m.quantize
                    codebook = quant.embedding_proj(quant.embedding.weight)  # C' = E W^T + b, grad to W, b
                    distances = (zf * zf).sum(-1, keepdim=True) + (codebook * codebook).sum(-1) - 2.0 * zf @ codebook.t()
                    token_ids = distances.argmin(dim=-1)
                    q = F.embedding(token_ids, codebook)
                    parts["codebook"] = F.mse_loss(q, zf.detach())
                    parts["commit"] = F.mse_loss(zf, q.detach())
                    zq = zf + (q - zf).detach()  # straight-through
            patches = m.decoder(m.post_quant_proj(zq))
        image = m.unpatchify(patches.float()) * m.pixel_std + m.pixel_mean
        target = pixels.float() / 255.0
        parts.update(self.pixel_loss(image, target))
        total = parts["pixel"]
        if self.stage > 0:
            total = total + parts["codebook"] + self.recipe.commit_weight * parts["commit"]
        if self.stage == 2 and self.teacher is not None and self.recipe.distill_weight > 0:
            with torch.no_grad(), bf16_autocast(pixels.is_cuda):
                teacher_post = self.teacher(m.normalize(pixels))[1]
            parts["distill"] = F.mse_loss(post.float(), teacher_post.float())
            total = total + self.recipe.distill_weight * parts["distill"]
        with torch.no_grad():
            parts["psnr"] = psnr((image.detach().clamp(0, 1) * 255.0).round(), pixels.float()).mean()
        return total, parts, token_ids, z.detach().float()


# --- codebook initialisation and restarts -----------------------------------------------------------


@torch.no_grad()
def set_codes(model: VQRAE, indices: Tensor, targets: Tensor) -> None:
    """Rewrite rows ``indices`` of the frozen ``E`` so that C'[indices] = ``targets``."""
    proj = model.quantize.embedding_proj
    weight = proj.weight.double()
    solved = torch.linalg.solve(weight, (targets.double() - proj.bias.double()).t()).t()
    model.quantize.embedding.weight[indices] = solved.to(model.quantize.embedding.weight.dtype)


@torch.no_grad()
def kmeans(points: Tensor, k: int, generator: torch.Generator, iterations: int = 10) -> Tensor:
    """Lloyd's k-means from a random sample of ``points``; empty clusters keep their previous centre."""
    centres = points[torch.randperm(points.shape[0], generator=generator)[:k]].clone()
    for _ in range(iterations):
        d = (points * points).sum(1, keepdim=True) + (centres * centres).sum(1) - 2 * points @ centres.t()
        assign = d.argmin(1)
        sums = torch.zeros_like(centres).index_add_(0, assign, points)
        counts = torch.bincount(assign, minlength=k).to(points.dtype)
        filled = counts > 0
        centres[filled] = sums[filled] / counts[filled, None]
    return centres


@torch.no_grad()
def init_codebook(model: VQRAE, sampler: CropSampler, recipe: Recipe, seed: int, dist: Dist) -> None:
    """Stage-1 start: C' := k-means centres of quantizer inputs (rank 0's crops, broadcast), W := I, b := 0."""
    k, code_dim = model.config.codebook_size, model.config.code_dim
    centres = torch.zeros(k, code_dim, device=dist.device)
    if dist.main:
        generator = np.random.default_rng([seed, 1000])
        zs = []
        for _ in range(recipe.kmeans_batches):
            pixels = sampler.batch(generator, recipe.batch_size).to(dist.device)
            with bf16_autocast(pixels.is_cuda):
                zs.append(model.quantizer_input(pixels)[1].float().reshape(-1, code_dim))
        points = torch.cat(zs)
        if points.shape[0] < k:
            raise ValueError(f"k-means needs at least {k} vectors, got {points.shape[0]}: raise kmeans_batches")
        g = torch.Generator().manual_seed(seed)
        centres = kmeans(points.cpu(), k, g).to(dist.device)
    dist.broadcast(centres)
    proj = model.quantize.embedding_proj
    proj.weight.copy_(torch.eye(code_dim, device=proj.weight.device))
    proj.bias.zero_()
    set_codes(model, torch.arange(k, device=centres.device), centres)


# --- checkpoints, history, plot ---------------------------------------------------------------------


def save_checkpoint(path: Path, state: Dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def plot_history(history: Dict[str, Any], path: Path) -> bool:
    """Loss curves (log scale) and training-batch PSNR per global step; stage boundaries marked."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("train: matplotlib missing (python3-matplotlib), no plot", file=sys.stderr)
        return False
    log = history["log"]
    if not log:
        return False
    fig, (ax_loss, ax_psnr) = plt.subplots(1, 2, figsize=(11, 4), dpi=80)
    steps = np.array([e["global_step"] for e in log])

    def smooth(values: np.ndarray, width: int = 5) -> np.ndarray:
        out = np.empty_like(values)
        for i in range(len(values)):
            window = values[max(0, i - width + 1):i + 1]
            window = window[np.isfinite(window)]
            out[i] = window.mean() if len(window) else np.nan
        return out

    for key, label in (("total", "total"), ("l1", "L1"), ("l2", "L2"), ("ssim_loss", "1 - SSIM"),
                       ("codebook", "codebook"), ("commit", "commitment"), ("distill", "self-distillation")):
        ys = np.array([e.get(key, np.nan) for e in log], dtype=float)
        if np.isfinite(ys).any():
            line, = ax_loss.plot(steps, smooth(ys), label=label, linewidth=1.2)
            ax_loss.plot(steps, ys, color=line.get_color(), linewidth=0.5, alpha=0.3)
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("step")
    ax_loss.set_title("training losses (faint: logged, bold: running mean of 5)")
    train_psnr = np.array([e["psnr"] for e in log], dtype=float)
    line, = ax_psnr.plot(steps, smooth(train_psnr), label="training batches", linewidth=1.2)
    ax_psnr.plot(steps, train_psnr, color=line.get_color(), linewidth=0.5, alpha=0.3)
    evals = history.get("evals", [])
    if evals:
        ax_psnr.plot([e["global_step"] for e in evals], [e["psnr"] for e in evals], "o-",
                     label="held-out (after each stage; stage 0 without quantizer)")
    ax_psnr.set_xlabel("step")
    ax_psnr.set_ylabel("PSNR (dB)")
    ax_psnr.set_title("reconstruction PSNR")
    for ax in (ax_loss, ax_psnr):
        for boundary in history.get("stage_starts", [])[1:]:
            ax.axvline(boundary, color="grey", linestyle=":", linewidth=1)
        for stage, start in zip(history.get("stages", []), history.get("stage_starts", [])):
            ax.annotate(f"stage {stage}", (start, 1.0), xycoords=("data", "axes fraction"), fontsize=7,
                        xytext=(3, -10), textcoords="offset points", color="grey")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


# --- the loop ---------------------------------------------------------------------------------------


def set_trainable(model: VQRAE, stage: int) -> List[nn.Parameter]:
    for name, p in model.named_parameters():
        if name == "quantize.embedding.weight":
            p.requires_grad_(False)  # SimVQ: the stored codebook never trains
        elif stage == 0:
            p.requires_grad_(not name.startswith("quantize."))
        elif stage == 1:
            p.requires_grad_(not name.startswith("vision_model."))
        else:
            p.requires_grad_(True)
    return [p for p in model.parameters() if p.requires_grad]


def lr_at(step: int, total: int, base: float, warmup: int) -> float:
    if step < warmup:
        return base * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return base * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress))))


@torch.no_grad()
def evaluate_pixels(model: VQRAE, pixels: Tensor, device: torch.device) -> Dict[str, float]:
    model.eval()
    ids, outs = [], []
    for start in range(0, pixels.shape[0], 4):
        batch = pixels[start:start + 4].to(device)
        token_ids = model.encode(batch)[1]
        ids.append(token_ids.cpu())
        outs.append(model.decode(token_ids).cpu())
    recon = torch.cat(outs)
    token_ids = torch.cat(ids)
    return {
        "psnr": float(psnr(recon, pixels).mean()),
        "ssim": float(ssim(recon.float(), pixels.float(), data_range=255.0).mean()),
        "utilisation": int(torch.unique(token_ids).numel()) / model.config.codebook_size,
    }


@torch.no_grad()
def evaluate_autoencoder(model: VQRAE, pixels: Tensor, device: torch.device) -> Dict[str, float]:
    """Stage-0 figures: the continuous autoencoder (no quantizer)."""
    model.eval()
    outs = []
    for start in range(0, pixels.shape[0], 4):
        batch = pixels[start:start + 4].to(device)
        image = model.unpatchify(model.decoder(model.post_quant_proj(model.quantizer_input(batch)[1])))
        outs.append(torch.clamp(torch.round((image * model.pixel_std + model.pixel_mean) * 255.0), 0, 255).cpu())
    recon = torch.cat(outs)
    return {"psnr": float(psnr(recon, pixels).mean()),
            "ssim": float(ssim(recon.float(), pixels.float(), data_range=255.0).mean())}


def resolve_config(name: str) -> VQRAEConfig:
    """A preset name, or a JSON file holding ``VQRAEConfig.to_dict()`` (small configs for tests)."""
    if name.endswith(".json"):
        return VQRAEConfig.from_dict(json.loads(Path(name).read_text()))
    return get_config(name)


def train(args: argparse.Namespace) -> Optional[VQRAE]:
    """Run the stages; returns the trained model, or ``None`` when ``--stop-after`` interrupted the run."""
    dist = Dist(args.device)
    torch.manual_seed(args.seed)
    config = resolve_config(args.config)
    if args.codebook_size or args.code_dim:
        config = dataclasses.replace(config, codebook_size=args.codebook_size or config.codebook_size,
                                     code_dim=args.code_dim or config.code_dim)
    recipe = dataclasses.replace(RECIPES.get(config.name, RECIPES["tiny"]), **{
        k: v for k, v in vars(args).items() if k in {f.name for f in dataclasses.fields(Recipe)} and v is not None
    })
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stages = sorted({int(s) for s in args.stages.split(",")}) if args.stages else (
        [1, 2] if args.encoder_checkpoint else [0, 1, 2])
    if args.encoder_checkpoint and 0 in stages:
        raise ValueError("stage 0 trains an encoder from scratch; drop it with --encoder-checkpoint")

    model = build_model(config, args.seed)
    if args.encoder_checkpoint:
        dropped = load_encoder_checkpoint(model, args.encoder_checkpoint)
        if dist.main:
            print(f"train: encoder from {args.encoder_checkpoint} (ignored keys: {len(dropped)})", flush=True)
    model.to(dist.device).train()

    if args.files:
        train_files = [Path(f) for f in args.files]
        eval_files = [Path(f) for f in (args.eval_files or [])]
    else:
        split = default_split(args.testdata)
        train_files, eval_files = list(split.train), list(split.evaluation)
    sampler = CropSampler.from_files(train_files, config.image_size, recipe.cache_side, args.cache_dir)
    eval_pixels = load_eval_images(eval_files, config.image_size, config.resize_filter, config.crop) if eval_files else None
    if dist.main:
        print(f"train: {config.name}, {len(train_files)} training photos, {len(eval_files)} held-out, stages {stages}, "
              f"device {dist.device}, world {dist.world}", flush=True)

    history: Dict[str, Any] = {"config": config.to_dict(), "recipe": dataclasses.asdict(recipe), "seed": args.seed,
                               "stages": stages, "log": [], "evals": [], "stage_starts": [], "wall_s": {}}
    resume: Optional[Dict[str, Any]] = None
    last = out / "last.pt"
    if args.resume and last.is_file():
        resume = torch.load(str(last), map_location="cpu")
        model.load_state_dict(resume["model"])
        history = resume["history"]
        if dist.main:
            print(f"train: resuming stage {resume['stage']} at step {resume['step']}", flush=True)

    steps_for = {0: recipe.steps0, 1: recipe.steps1, 2: recipe.steps2}
    lr_for = {0: recipe.lr0, 1: recipe.lr1, 2: recipe.lr2}
    global_offset = sum(steps_for[s] for s in stages if resume is not None and s < resume["stage"])
    teacher_state = resume.get("teacher") if resume else None
    steps_run = 0

    for stage in stages:
        if resume is not None and stage < resume["stage"]:
            continue
        total_steps = steps_for[stage]
        step = 0
        teacher = None
        if stage == 2:
            teacher = copy.deepcopy(model.vision_model).eval()
            if teacher_state is not None:
                teacher.load_state_dict(teacher_state)
            for p in teacher.parameters():
                p.requires_grad_(False)
        trainable = set_trainable(model, stage)
        decay = [p for p in trainable if p.ndim >= 2]
        no_decay = [p for p in trainable if p.ndim < 2]
        optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": recipe.weight_decay},
                                       {"params": no_decay, "weight_decay": 0.0}], lr=lr_for[stage], betas=(0.9, 0.99))
        generator = np.random.default_rng([args.seed, stage, dist.rank])
        usage = torch.zeros(config.codebook_size, device=dist.device)
        if resume is not None and stage == resume["stage"]:
            step = resume["step"]
            optimizer.load_state_dict(resume["optimizer"])
            rank_state = out / f"rng.rank{dist.rank}.json"
            generator.bit_generator.state = (resume["generator"] if dist.main
                                             else json.loads(rank_state.read_text()))
            torch.set_rng_state(resume["torch_rng"])
            usage = resume["usage"].to(dist.device)
            resume = None
        else:
            history["stage_starts"].append(global_offset)
            if stage == 1:
                init_codebook(model, sampler, recipe, args.seed, dist)
        step_module = TrainStep(model, recipe, teacher).to(dist.device)
        step_module.stage = stage
        runner: nn.Module = step_module
        if dist.world > 1:
            from torch.nn.parallel import DistributedDataParallel

            runner = DistributedDataParallel(step_module, device_ids=[dist.device.index] if dist.device.type == "cuda" else None)
        started = time.time()
        model.train()
        running: Dict[str, float] = {}
        running_count = 0
        while step < total_steps:
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step, total_steps, lr_for[stage], recipe.warmup)
            pixels = sampler.batch(generator, recipe.batch_size).to(dist.device, non_blocking=True)
            total, parts, token_ids, z = runner(pixels)
            optimizer.zero_grad(set_to_none=True)
            total.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            step += 1
            steps_run += 1
            running_count += 1
            for key, value in [("total", total), *parts.items()]:
                value = float(value)
                key, value = ("ssim_loss", 1.0 - value) if key == "ssim" else (key, value)
                running[key] = running.get(key, 0.0) + value
            if token_ids is not None:
                usage += torch.bincount(token_ids.flatten(), minlength=config.codebook_size).float()
                if recipe.restart_every and step % recipe.restart_every == 0 and step < 0.9 * total_steps:
                    restart_dead_codes(model, usage, z, generator, dist, recipe.restart_below)
                    usage.zero_()
            if step % recipe.log_every == 0 or step == total_steps:
                entry = {"stage": stage, "step": step, "global_step": global_offset + step,
                         "lr": optimizer.param_groups[0]["lr"], "elapsed_s": round(time.time() - started, 1)}
                entry.update({key: value / running_count for key, value in running.items()})  # means since the last entry
                running, running_count = {}, 0
                history["log"].append(entry)
                if dist.main:
                    print("train: " + " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                               for k, v in entry.items()), flush=True)
            interrupt = bool(args.stop_after) and steps_run >= args.stop_after and step < total_steps
            saving = step % recipe.save_every == 0 or step == total_steps or interrupt
            if saving and not dist.main:  # every rank has its own crop stream
                (out / f"rng.rank{dist.rank}.json").write_text(json.dumps(generator.bit_generator.state))
            if saving and dist.main:
                history["wall_s"][str(stage)] = history["wall_s"].get(str(stage), 0.0) + (time.time() - started)
                started = time.time()
                save_checkpoint(last, {
                    "stage": stage if step < total_steps else stage + 0.5, "step": step,
                    "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "generator": generator.bit_generator.state, "torch_rng": torch.get_rng_state(),
                    "usage": usage.cpu(), "teacher": teacher.state_dict() if teacher is not None else None,
                    "history": history,
                })
                (out / "history.json").write_text(json.dumps(history, indent=1) + "\n")
                plot_history(history, out / "losses.png")
            if interrupt:
                dist.barrier()
                if dist.main:
                    print(f"train: stopped after {steps_run} steps (stage {stage}, step {step}); --resume continues", flush=True)
                return None
        dist.barrier()
        if dist.main and eval_pixels is not None:
            figures = (evaluate_autoencoder if stage == 0 else evaluate_pixels)(model, eval_pixels, dist.device)
            history["evals"].append({"stage": stage, "global_step": global_offset + total_steps, **figures})
            print(f"train: stage {stage} held-out: " + ", ".join(f"{k}={v:.4g}" for k, v in figures.items()), flush=True)
            model.train()
        global_offset += total_steps
        if dist.main:
            save_checkpoint(out / f"stage{stage}.pt", {"model": model.state_dict(), "config": config.to_dict()})
            # mark the stage done so --resume starts the next one
            state = torch.load(str(last), map_location="cpu")
            state["history"] = history
            save_checkpoint(last, state)
            (out / "history.json").write_text(json.dumps(history, indent=1) + "\n")
            plot_history(history, out / "losses.png")
        teacher_state = None

    model.eval().cpu()
    if dist.main:
        save_safetensors(model.state_dict(), out / "model.safetensors",
                         metadata={"format": "pt", "vqrae.config": json.dumps(config.to_dict(), sort_keys=True)})
    return model


@torch.no_grad()
def restart_dead_codes(model: VQRAE, usage: Tensor, z: Tensor, generator: np.random.Generator, dist: Dist,
                       below: float = 0.0) -> int:
    """Point codes unused (or used less than ``below`` times the mean usage) since the last restart at
    random current quantizer inputs (rank 0's, broadcast)."""
    usage = dist.all_sum(usage.clone())
    dead = torch.nonzero((usage == 0) | (usage < below * usage.mean())).flatten()
    if dead.numel() == 0:
        return 0
    flat = z.reshape(-1, z.shape[-1])
    picks = torch.from_numpy(generator.integers(0, flat.shape[0], dead.numel())).to(flat.device)
    targets = dist.broadcast(flat[picks].contiguous())
    set_codes(model, dead, targets)
    return int(dead.numel())


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m vqrae.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True,
                        help="model preset (tiny, so400m-256, so400m-512; picks the recipe) or a VQRAEConfig .json file")
    parser.add_argument("--out", type=Path, required=True, help="run directory (checkpoints, history, plot)")
    parser.add_argument("--stages", help="comma-separated stages to run (default 0,1,2; 1,2 with --encoder-checkpoint)")
    parser.add_argument("--encoder-checkpoint", type=Path, help="SigLIP/SigLIP2 vision weights, Hugging Face layout")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    parser.add_argument("--stop-after", type=int, help="stop (with a checkpoint) after this many steps of this invocation")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (torch.set_num_threads)")
    parser.add_argument("--cache-dir", type=Path, help="cache of downscaled training photos (.npy)")
    parser.add_argument("--testdata", type=Path, help="directory of the libjxl test photos (default .testdata/images)")
    parser.add_argument("--files", nargs="*", help="train on these images instead of the wallpaper split (tests)")
    parser.add_argument("--eval-files", nargs="*", help="with --files: held-out images")
    parser.add_argument("--codebook-size", type=int, help="override the preset's K")
    parser.add_argument("--code-dim", type=int, help="override the preset's code dimension")
    parser.add_argument("--export", type=Path, help="export the trained model to this directory (vqrae.export)")
    parser.add_argument("--model-id", help="manifest model_id (default vqrae-<config>)")
    parser.add_argument("--model-version", default="0.2.0")
    for field in dataclasses.fields(Recipe):
        parser.add_argument("--" + field.name.replace("_", "-"), type=field.type, default=None,
                            help=f"recipe override (preset default {getattr(RECIPES['tiny'], field.name)} for tiny)")
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.testdata is None:
        from .data import DEFAULT_TESTDATA

        args.testdata = DEFAULT_TESTDATA
    started = time.time()
    try:
        model = train(args)
        if model is not None and args.export and int(os.environ.get("RANK", "0")) == 0:
            from .export import export

            manifest = export(model, args.export, args.model_id, args.model_version)
            print(f"train: exported {args.export} codebook_sha256={manifest['codebook_sha256']}", flush=True)
    except (ValueError, OSError) as exc:
        print(f"vqrae.train: error: {exc}", file=sys.stderr)
        return 1
    print(f"train: done in {time.time() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
