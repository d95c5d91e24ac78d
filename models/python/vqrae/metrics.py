"""Image quality metrics in PyTorch: PSNR and SSIM (also used as a training loss).

SSIM follows Wang et al. 2004 as implemented by ``skimage``/``pytorch-msssim`` with ``gaussian_weights``:
an 11-tap Gaussian window with sigma 1.5 (normalised, separable), constants ``C1 = (0.01 L)^2`` and
``C2 = (0.03 L)^2`` with data range ``L``, 'valid' filtering (no padding), the SSIM map averaged over
the image. It is computed on each RGB channel separately and averaged over the three channels.
"""

import torch
import torch.nn.functional as F
from torch import Tensor

WINDOW = 11
SIGMA = 1.5
K1, K2 = 0.01, 0.03


def gaussian_window(size: int = WINDOW, sigma: float = SIGMA, dtype=torch.float32, device=None) -> Tensor:
    coords = torch.arange(size, dtype=torch.float64) - (size - 1) / 2.0
    g = torch.exp(-(coords ** 2) / (2.0 * sigma ** 2))
    return (g / g.sum()).to(dtype=dtype, device=device)


def _blur(x: Tensor, window: Tensor) -> Tensor:
    """Separable 'valid' Gaussian filter of every plane of ``[B, C, H, W]`` (as one depthwise conv over
    ``B*C`` channels of a single image, which is much faster on CPU than a batched grouped conv)."""
    batch, channels, height, width = x.shape
    planes = batch * channels
    flat = x.reshape(1, planes, height, width)
    wx = window.view(1, 1, 1, -1).expand(planes, 1, 1, -1)
    wy = window.view(1, 1, -1, 1).expand(planes, 1, -1, 1)
    out = F.conv2d(F.conv2d(flat, wx, groups=planes), wy, groups=planes)
    return out.reshape(batch, channels, out.shape[-2], out.shape[-1])


def ssim(x: Tensor, y: Tensor, data_range: float = 1.0) -> Tensor:
    """Mean SSIM per image, ``[B]``, of float images ``[B, C, H, W]`` (channels averaged)."""
    x = x.float()
    y = y.float()
    window = gaussian_window(dtype=x.dtype, device=x.device)
    c1 = (K1 * data_range) ** 2
    c2 = (K2 * data_range) ** 2
    channels = x.shape[1]
    stats = _blur(torch.cat([x, y, x * x, y * y, x * y], dim=1), window)
    mu_x, mu_y, exx, eyy, exy = torch.split(stats, channels, dim=1)
    sxx = exx - mu_x * mu_x
    syy = eyy - mu_y * mu_y
    sxy = exy - mu_x * mu_y
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * sxy + c2)) / ((mu_x * mu_x + mu_y * mu_y + c1) * (sxx + syy + c2))
    return ssim_map.flatten(1).mean(dim=1)


LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601


def luma(x: Tensor) -> Tensor:
    """``[B, 3, H, W]`` RGB -> ``[B, 1, H, W]`` BT.601 luma."""
    weights = torch.tensor(LUMA, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * weights).sum(dim=1, keepdim=True)


def psnr(x: Tensor, y: Tensor, data_range: float = 255.0) -> Tensor:
    """PSNR in dB per image, ``[B]`` (MSE over all pixels and channels of each image)."""
    mse = ((x.double() - y.double()) ** 2).flatten(1).mean(dim=1)
    return 10.0 * torch.log10(data_range ** 2 / mse.clamp_min(1e-12))
