import io
import tarfile

import pytest

from orchestra.lab.imageload import check_tarball, load_everywhere
from orchestra.lab.ssh import LabError


def test_missing_file(tmp_path):
    with pytest.raises(LabError, match="does not exist"):
        check_tarball(str(tmp_path / "x.tar"))


def test_not_a_tar(tmp_path):
    p = tmp_path / "x.tar"
    p.write_text("nope")
    with pytest.raises(LabError, match="not a tar archive"):
        check_tarball(str(p))


def test_tar_without_manifest(tmp_path):
    p = tmp_path / "x.tar"
    with tarfile.open(p, "w") as t:
        info = tarfile.TarInfo("hello")
        info.size = 2
        t.addfile(info, io.BytesIO(b"hi"))
    with pytest.raises(LabError, match="docker save"):
        check_tarball(str(p))


def test_no_nodes(tmp_path):
    p = tmp_path / "x.tar"
    with tarfile.open(p, "w") as t:
        info = tarfile.TarInfo("manifest.json")
        info.size = 2
        t.addfile(info, io.BytesIO(b"[]"))
    with pytest.raises(LabError, match="no running nodes"):
        load_everywhere([], str(p))
