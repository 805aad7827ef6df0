import hashlib
import io
import tarfile

import pytest

from orchestra.cli.failure import CliError
from orchestra.cli.images import check_archive
from tests.support import busybox_image


def test_an_image_archive_gives_its_size_and_sha256(tmp_path):
    path = busybox_image.build(str(tmp_path / "app.tar"), tag="local/app:1")
    data = open(path, "rb").read()
    assert check_archive(path) == (len(data), hashlib.sha256(data).hexdigest())


def test_what_is_not_an_image_archive_is_named(tmp_path):
    with pytest.raises(CliError, match="does not exist"):
        check_archive(str(tmp_path / "absent.tar"))
    (tmp_path / "text").write_text("hello")
    with pytest.raises(CliError, match="is not a tar archive"):
        check_archive(str(tmp_path / "text"))
    plain = tmp_path / "plain.tar"
    with tarfile.open(plain, "w") as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    with pytest.raises(CliError, match="no manifest.json"):
        check_archive(str(plain))
