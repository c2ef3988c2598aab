"""Augmentations of images in [0, 1] (8 x 8 digits, or a user's (C, H, W) images), flattened and batched in torch,
and the rules that choose which samples of a batch are augmented.

Selection (Takase, Karakida & Asoh 2021; the authors' code, ``util.flag_update``): a sample is augmented when the
network's loss on its *un-augmented* image, computed without a weight update, is at least tau. Since a
cross-entropy loss is never negative, tau = 0 augments every sample: SPA with tau = 0 *is* augmenting everything
(CA), which is why the authors' default threshold ``--judge_noise 0`` must not be used as SPA (tests check the
identity). The random control augments, at every step, exactly as many samples of its batch as its SPA partner
does, chosen uniformly at random: the same schedule of counts, a different choice of samples.

Every draw happens afresh at every step, from generators the caller passes: no sample's augmentation is frozen
for the run (the authors' subset path materialises the randomly transformed images once; not ported).
"""

import math

import torch
import torch.nn.functional as F

DIGITS = (1, 8, 8)  # (channels, height, width) of the digits, every function's default shape


def spa_mask(clean_losses: torch.Tensor, tau: float) -> torch.Tensor:
    """Self-paced selection: True where the loss on the un-augmented sample is >= tau (augment it)."""
    return clean_losses >= tau


def matched_random_mask(counts: torch.Tensor, batch: int, generator: torch.Generator) -> torch.Tensor:
    """For each row, a mask of ``batch`` entries with exactly ``counts[row]`` True at uniformly random places."""
    ranks = torch.rand(len(counts), batch, generator=generator).argsort(dim=1).argsort(dim=1)
    return ranks < counts[:, None]


def _base_grid(dtype, height: int, width: int) -> torch.Tensor:
    """The pixel centres in normalised coordinates (x, y, 1), row-major: affine_grid's base grid."""
    x_centres = (torch.arange(width, dtype=dtype) * 2 + 1) / width - 1
    y_centres = (torch.arange(height, dtype=dtype) * 2 + 1) / height - 1
    y, x = torch.meshgrid(y_centres, x_centres, indexing="ij")
    return torch.stack([x.reshape(-1), y.reshape(-1), torch.ones(height * width, dtype=dtype)], dim=-1)


def _affine(images: torch.Tensor, matrices: torch.Tensor, shape=DIGITS) -> torch.Tensor:
    """Warp (K, C*H*W) images by (K, 2, 3) affine maps (output -> input coordinates), bilinear, zero outside; the
    same as F.affine_grid + F.grid_sample with align_corners=False, with the grid as one batched matmul."""
    channels, height, width = shape
    grid = torch.matmul(_base_grid(images.dtype, height, width), matrices.transpose(1, 2))
    warped = F.grid_sample(images.view(-1, channels, height, width), grid.view(len(images), height, width, 2),
                           mode="bilinear", padding_mode="zeros", align_corners=False)
    return warped.view(len(images), -1)


def _matrices(angle: torch.Tensor, shift_x: torch.Tensor, shift_y: torch.Tensor,
              shear_x: torch.Tensor | None = None, shear_y: torch.Tensor | None = None) -> torch.Tensor:
    cos, sin = torch.cos(angle), torch.sin(angle)
    shear_x = torch.zeros_like(angle) if shear_x is None else shear_x
    shear_y = torch.zeros_like(angle) if shear_y is None else shear_y
    row0 = torch.stack([cos + shear_x * sin, -sin + shear_x * cos, shift_x], dim=-1)
    row1 = torch.stack([sin + shear_y * cos, cos - shear_y * sin, shift_y], dim=-1)
    return torch.stack([row0, row1], dim=-2)


def translate_rotate(images: torch.Tensor, generator: torch.Generator, shape=DIGITS, max_shift: int = 1,
                     max_degrees: float = 15.0) -> torch.Tensor:
    """The "appropriate" augmentation for digits (our setting, the digest's panel a): a shift of -1, 0 or +1 pixel
    on each axis and a rotation uniform in +-15 degrees, one draw per image. ``images`` is (K, C*H*W)."""
    count = len(images)
    _, height, width = shape
    shifts = torch.randint(-max_shift, max_shift + 1, (2, count), generator=generator).to(images.dtype)
    angle = (torch.rand(count, generator=generator, dtype=images.dtype) * 2 - 1) * math.radians(max_degrees)
    # one pixel is 2 / side in affine_grid's normalised coordinates (align_corners=False)
    return _affine(images, _matrices(angle, shifts[0] * (2.0 / width), shifts[1] * (2.0 / height)), shape)


def horizontal_flip(images: torch.Tensor, generator: torch.Generator, shape=DIGITS,
                    probability: float = 0.5) -> torch.Tensor:
    """The authors' ``n_aug = 1``: mirror each image left-right with probability 0.5. Harmful for digits (a mirrored
    2, 3, 4, 7 or 9 is not that digit): the digest's panel b; for natural images, half of their CIFAR default."""
    flip = torch.rand(len(images), generator=generator) < probability
    mirrored = images.view(-1, *shape).flip(-1).reshape(len(images), -1)
    return torch.where(flip[:, None], mirrored, images)


def random_crop(images: torch.Tensor, generator: torch.Generator, shape=DIGITS, side: float = 0.8) -> torch.Tensor:
    """The authors' ``n_aug = 2``: a window of 4/5 of each side at a random place inside the image, resized back
    bilinearly (their crop is at whole pixels; ours at any offset)."""
    count = len(images)
    room = 1.0 - side  # the window's centre may move this far from the image's, in normalised coordinates
    shift = (torch.rand(2, count, generator=generator, dtype=images.dtype) * 2 - 1) * room
    zero = torch.zeros(count, dtype=images.dtype)
    matrices = _matrices(zero, shift[0], shift[1])
    matrices[:, :, :2] = matrices[:, :, :2] * side
    return _affine(images, matrices, shape)


def flip_crop(images: torch.Tensor, generator: torch.Generator, shape=DIGITS) -> torch.Tensor:
    """The authors' CIFAR default ``n_aug = 12``: a horizontal flip (p = 0.5), then a random crop."""
    return random_crop(horizontal_flip(images, generator, shape), generator, shape)


AUGMENTATIONS = {"translate_rotate": translate_rotate, "hflip": horizontal_flip, "crop": random_crop,
                 "flip_crop": flip_crop}
MIXUP = "mixup"  # mixes labels too: not in AUGMENTATIONS (images -> images); see mixup and select_mixed


def mixup(images: torch.Tensor, labels: torch.Tensor, generator: torch.Generator,
          classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """mixup (Zhang et al. 2018) as the authors' ``n_aug = 5`` (alpha = 1): image k becomes
    lam_k x_k + (1 - lam_k) x_p(k), with p a random permutation of the batch and lam_k ~ Beta(1, 1), i.e. uniform
    on [0, 1], drawn per sample; its target is the same mix of the two one-hot labels. Returns (images, targets),
    targets (K, classes)."""
    count = len(images)
    lam = torch.rand(count, generator=generator, dtype=images.dtype)[:, None]
    partner = torch.randperm(count, generator=generator)
    onehot = F.one_hot(labels, classes).to(images.dtype)
    return lam * images + (1 - lam) * images[partner], lam * onehot + (1 - lam) * onehot[partner]


def select_mixed(clean: torch.Tensor, labels: torch.Tensor, mixed: torch.Tensor, mixed_targets: torch.Tensor,
                 mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each sample's image and target: the mixed image with its mixed target where ``mask`` is True, else the
    clean image with its own one-hot label. (The authors' code keeps the *mixed* targets for the samples SPA leaves
    un-augmented, since its ``labels.ndim > 1`` test fails for integer labels; here a label goes with its image.)
    ``clean``, ``mixed`` (..., K, D); ``labels`` (..., K); ``mixed_targets`` (..., K, classes); ``mask`` (..., K)."""
    onehot = F.one_hot(labels, mixed_targets.shape[-1]).to(mixed_targets.dtype)
    keep = mask[..., None]
    return torch.where(keep, mixed, clean), torch.where(keep, mixed_targets, onehot)

# RandAugment's ops for grey 8 x 8 images, with the authors' value map v = (M / 30) (max - min) + min
# (ildoonet style). Their list of 14 PIL ops less Color (a no-op on grey images) and Equalize (a histogram of 64
# pixels is degenerate). Geometric ranges as in their code: shear 0.3, translation 0.45 of the side, rotation
# 30 degrees, each with a random sign.
RANDAUGMENT_OPS = ("identity", "shear_x", "shear_y", "translate_x", "translate_y", "rotate", "auto_contrast",
                   "solarize", "posterize", "contrast", "brightness", "sharpness")
GEOMETRIC = {"shear_x", "shear_y", "translate_x", "translate_y", "rotate"}
MAX_MAGNITUDE = 30.0


def _blend(images: torch.Tensor, other: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    return (other + factor[:, None] * (images - other)).clamp(0.0, 1.0)


def _blurred(images: torch.Tensor, shape=DIGITS) -> torch.Tensor:
    """PIL's SMOOTH kernel (1 1 1 / 1 5 1 / 1 1 1) / 13, zero outside the image: the 3 x 3 sum plus 4x the centre."""
    window = F.avg_pool2d(images.view(-1, *shape), 3, stride=1, padding=1, count_include_pad=True) * 9
    return (window.view(len(images), -1) + 4 * images) / 13.0


def randaugment_op(images: torch.Tensor, ops: torch.Tensor, magnitude: torch.Tensor,
                   signs: torch.Tensor, shape=DIGITS) -> torch.Tensor:
    """Apply op ``ops[k]`` (an index into RANDAUGMENT_OPS) at ``magnitude[k]`` (0-30) to image k; ``signs`` (+-1)
    set the direction of the geometric and enhancement ops."""
    v = magnitude.to(images.dtype) / MAX_MAGNITUDE
    s = signs.to(images.dtype)
    name = {op: index for index, op in enumerate(RANDAUGMENT_OPS)}
    zero = torch.zeros_like(v)
    on = {op: ops == name[op] for op in RANDAUGMENT_OPS}
    angle = torch.where(on["rotate"], s * v * math.radians(30.0), zero)
    shift_x = torch.where(on["translate_x"], s * v * 0.45 * 2.0, zero)  # 0.45 of the side = 0.9 normalised units
    shift_y = torch.where(on["translate_y"], s * v * 0.45 * 2.0, zero)
    shear_x = torch.where(on["shear_x"], s * v * 0.3, zero)
    shear_y = torch.where(on["shear_y"], s * v * 0.3, zero)
    out = _affine(images, _matrices(angle, shift_x, shift_y, shear_x, shear_y), shape)
    low, high = images.min(dim=1, keepdim=True).values, images.max(dim=1, keepdim=True).values
    stretched = (images - low) / (high - low).clamp_min(1e-6)
    solarized = torch.where(images >= (1.0 - v)[:, None], 1.0 - images, images)
    levels = 2.0 ** torch.round(8.0 - 4.0 * v)  # 8 bits down to 4 at M = 30
    posterized = torch.floor(images * (levels[:, None] - 1) + 0.5) / (levels[:, None] - 1)
    factor = 1.0 + s * v * 0.9  # 0.1 ... 1.9
    mean = images.mean(dim=1, keepdim=True).expand_as(images)
    choices = [("auto_contrast", stretched), ("solarize", solarized), ("posterize", posterized),
               ("contrast", _blend(images, mean, factor)), ("brightness", _blend(images, torch.zeros_like(images),
                                                                                factor)),
               ("sharpness", _blend(images, _blurred(images, shape), factor))]
    for op, result in choices:
        out = torch.where(on[op][:, None], result, out)
    return out


def randaugment(images: torch.Tensor, n_ops: torch.Tensor, magnitude: torch.Tensor, ops: torch.Tensor,
                signs: torch.Tensor, shape=DIGITS) -> torch.Tensor:
    """RandAugment on (K, C*H*W) images: image k gets the first ``n_ops[k]`` of its drawn ops ``ops[k, :]`` (indices
    into RANDAUGMENT_OPS, drawn with replacement) in turn, at ``magnitude[k]``; ``signs`` matches ``ops``."""
    out = images
    for slot in range(ops.shape[1]):
        applied = randaugment_op(out, ops[:, slot], magnitude, signs[:, slot], shape)
        out = torch.where((n_ops > slot)[:, None], applied, out)
    return out


def draw_randaugment(count: int, slots: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Op indices and signs for ``count`` images and ``slots`` op slots, drawn afresh (live RandAugment)."""
    ops = torch.randint(len(RANDAUGMENT_OPS), (count, slots), generator=generator)
    signs = torch.randint(0, 2, (count, slots), generator=generator) * 2 - 1
    return ops, signs
