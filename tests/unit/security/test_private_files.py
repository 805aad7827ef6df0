import os
import stat

from orchestra.security.private_files import ensure_private_dir, write_private


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_files_are_0600_and_created_dirs_0700(tmp_path):
    target = tmp_path / "a" / "b" / "key.pem"
    write_private(target, b"secret")
    assert target.read_bytes() == b"secret"
    assert mode(target) == 0o600
    assert mode(target.parent) == 0o700


def test_overwrite_keeps_mode_and_leaves_no_temp_files(tmp_path):
    target = tmp_path / "k"
    target.write_text("old")
    os.chmod(target, 0o644)
    write_private(target, "new")
    assert target.read_text() == "new" and mode(target) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["k"]


def test_existing_dir_is_tightened(tmp_path):
    d = tmp_path / "d"
    d.mkdir(mode=0o755)
    ensure_private_dir(d)
    assert mode(d) == 0o700
