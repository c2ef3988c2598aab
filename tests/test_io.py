"""Results are readable by the group (the umask decides, as for any file), and a corrupt torch file is named."""

import os
import stat

import numpy as np
import pandas as pd
import pytest
import torch

from dltheory.io import CorruptInputError, load_torch, save_torch, write_arrays, write_json, write_table


def _write_every_kind(folder):
    write_table(pd.DataFrame({"n": [1, 2]}), folder / "runs.parquet", {"config_hash": "x"})
    write_arrays(folder / "data.npz", x=np.zeros(2))
    write_json(folder / "claims.json", {"holds": True})
    save_torch({"w": torch.zeros(2)}, folder / "model.pt")
    return ["runs.parquet", "data.npz", "claims.json", "model.pt"]


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_results_get_the_mode_the_umask_gives(tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        names = _write_every_kind(tmp_path)
    finally:
        os.umask(previous)
    assert {name: oct(stat.S_IMODE((tmp_path / name).stat().st_mode)) for name in names} == {
        name: oct(mode) for name in names}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)  # no .partial file left behind


def test_a_truncated_torch_file_is_named(tmp_path):
    path = tmp_path / "classifier.pt"
    save_torch({"w": torch.arange(1000.0)}, path)
    assert torch.equal(load_torch(path)["w"], torch.arange(1000.0))
    path.write_bytes(path.read_bytes()[:300])  # truncated, as by a full disk
    with pytest.raises(CorruptInputError, match=r"cannot read torch file .*classifier\.pt: "):
        load_torch(path)
    with pytest.raises(CorruptInputError, match=r"cannot read torch file .*missing\.pt: "):
        load_torch(tmp_path / "missing.pt")


def test_the_digits_classifier_names_a_corrupt_weights_file(tmp_path):
    from dltheory.gan.classifier import load_digits_classifier

    path = tmp_path / "classifier.pt"
    path.write_bytes(b"PK\x03\x04 not a torch archive")
    with pytest.raises(CorruptInputError, match=r"classifier\.pt"):
        load_digits_classifier(path)
