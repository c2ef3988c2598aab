"""Images in [0, 1], flattened, split per seed into a class-balanced training set, a validation set and a test set
(numpy only): scikit-learn's digits (8 x 8, grey; bundled, offline) or a user's npz file (e.g. CIFAR-10, which
cannot be downloaded on these machines). The authors' code takes the first n of one fixed shuffle for every seed
and does not balance classes; here every seed draws its own balanced subset, so the spread over seeds includes the
subset's.

A user's file is an ``.npz`` with ``images``, uint8 of shape (N, H, W) or (N, H, W, C) (channels last, as CIFAR's
arrays are usually stored), and ``labels``, N integers 0 ... classes - 1.
"""

import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from dltheory.digits import bundled_digits

CLASSES = 10
DIGITS_SHAPE = (1, 8, 8)  # (channels, height, width)


class ImageFileError(ValueError):
    """A user's image file that cannot be used; the message names the file."""


def _header(archive: zipfile.ZipFile, name: str) -> tuple[np.dtype, tuple[int, ...]]:
    with archive.open(f"{name}.npy") as stream:
        version = np.lib.format.read_magic(stream)
        read = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}.get(version)
        if read is None:  # a newer header format: read the array itself
            stream.seek(0)
            array = np.lib.format.read_array(stream)
            return array.dtype, array.shape
        shape, _, dtype = read(stream)
    return dtype, shape


def check_image_file(path) -> tuple[int, ...]:
    """Check a user's npz from its array headers only (cheap: it runs when the config is read) and return the
    images' shape; raises :class:`ImageFileError` naming the file."""
    path = Path(path)
    where = f"images file {path}" + ("" if path.is_absolute() else f" (looked for {path.absolute()})")
    if not path.is_file():
        raise ImageFileError(f"{where}: no such file")
    try:
        with zipfile.ZipFile(path) as archive:
            names = {n.removesuffix(".npy") for n in archive.namelist()}
            missing = [k for k in ("images", "labels") if k not in names]
            if missing:
                raise ImageFileError(f"{where}: no array {missing[0]!r} (it holds {sorted(names)}); an npz with "
                                     "'images' (uint8, N x H x W or N x H x W x C) and 'labels' (N integers)")
            (image_type, shape), (label_type, label_shape) = _header(archive, "images"), _header(archive, "labels")
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        if isinstance(error, ImageFileError):
            raise
        raise ImageFileError(f"{where}: not a readable npz file ({error})") from error
    if image_type != np.uint8 or len(shape) not in (3, 4):
        raise ImageFileError(f"{where}: 'images' must be uint8 of shape N x H x W or N x H x W x C, got "
                             f"{image_type} of shape {shape}")
    if not np.issubdtype(label_type, np.integer) or label_shape != shape[:1]:
        raise ImageFileError(f"{where}: 'labels' must be {shape[0]} integers (one per image), got {label_type} of "
                             f"shape {label_shape}")
    return shape


@cache
def load_image_file(path: str) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int]]:
    """A user's npz as (N, C*H*W) pixels in [0, 1] (channel-major, as torch's convolutions read them), labels, and
    (C, H, W)."""
    shape = check_image_file(path)
    with np.load(path) as arrays:
        images, labels = arrays["images"], arrays["labels"].astype(np.int64)
    if labels.min() < 0:
        raise ImageFileError(f"images file {path}: 'labels' must be 0, 1, ..., classes - 1; found {labels.min()}")
    images = images[..., None] if len(shape) == 3 else images
    images = np.ascontiguousarray(images.transpose(0, 3, 1, 2))
    return (images.reshape(len(images), -1).astype(np.float32) / 255.0, labels,
            tuple(int(d) for d in images.shape[1:]))


def load_images(data) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int]]:
    """The images of the config's ``data`` (source digits or npz) as (N, pixels) in [0, 1], labels, (C, H, W)."""
    if data is None or data.source == "digits":
        images, labels = load_digit_images()
        return images, labels, DIGITS_SHAPE
    return load_image_file(str(data.path))


@dataclass(frozen=True)
class DigitsSplit:
    """One seed's split: images (points, C*H*W) in [0, 1] and integer labels."""

    train_x: np.ndarray
    train_y: np.ndarray
    validation_x: np.ndarray
    validation_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    shape: tuple[int, int, int] = DIGITS_SHAPE
    classes: int = CLASSES


def load_digit_images() -> tuple[np.ndarray, np.ndarray]:
    """The 1797 bundled digits (offline) as (1797, 64) pixels in [0, 1] (row-major 8 x 8) and labels."""
    pixels, labels = bundled_digits()
    return pixels.astype(np.float32) / 16.0, labels


def split_digits(images: np.ndarray, labels: np.ndarray, train: int, validation: int,
                 rng: np.random.Generator, shape: tuple[int, int, int] = DIGITS_SHAPE) -> DigitsSplit:
    """``train / classes`` training images per class (classes = the largest label + 1, at least 10), then
    ``validation`` random images of the rest, the remaining ones as the test set."""
    classes = max(CLASSES, int(labels.max()) + 1)
    if train % classes:
        raise ValueError(f"train_sizes: {train} is not a multiple of the {classes} classes (the split is "
                         "class-balanced)")
    if train + validation >= len(labels):
        raise ValueError(f"validation: train + validation = {train} + {validation} leaves no test image of "
                         f"{len(labels)}")
    pools = [np.flatnonzero(labels == c) for c in range(classes)]
    short = [c for c, pool in enumerate(pools) if len(pool) < train // classes]
    if short:
        raise ValueError(f"train_sizes: {train} needs {train // classes} images of class {short[0]}, which has "
                         f"{len(pools[short[0]])}")
    chosen = np.concatenate([rng.choice(pool, train // classes, replace=False) for pool in pools])
    chosen = rng.permutation(chosen)
    rest = rng.permutation(np.setdiff1d(np.arange(len(labels)), chosen))
    held, test = rest[:validation], rest[validation:]
    return DigitsSplit(images[chosen], labels[chosen], images[held], labels[held], images[test], labels[test],
                       shape, classes)


def seed_split(seed: int, train: int, validation: int, replicate: int, data=None) -> DigitsSplit:
    """Replicate ``replicate``'s split at training size ``train`` (seeded by the global seed, n and replicate) of
    the config's ``data`` (digits when None)."""
    from dltheory.seeds import rng_for

    images, labels, shape = load_images(data)
    return split_digits(images, labels, train, validation, rng_for(seed, "selfpaced", "split", train, replicate),
                        shape)


def majority_accuracy(train_labels: np.ndarray, test_labels: np.ndarray) -> float:
    """Test accuracy of the majority-class predictor fitted on the training labels (the did-it-learn reference)."""
    majority = np.bincount(np.asarray(train_labels), minlength=CLASSES).argmax()
    return float(np.mean(np.asarray(test_labels) == majority))
