import subprocess
import sys
import venv
import zipfile

import pytest

from orchestra.lab import wheelinstall


def make_wheel(path, version, files):
    info = f"demo-{version}.dist-info"
    files = dict(files)
    files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: demo\nVersion: {version}\n"
    files[f"{info}/entry_points.txt"] = "[console_scripts]\ndemo-hello = demo.cli:main\n"
    files[f"{info}/RECORD"] = "".join(f"{n},,\n" for n in files) + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return str(path)


@pytest.fixture
def env(tmp_path):
    d = tmp_path / "venv"
    venv.create(d, with_pip=False)
    return str(d)


def test_install_writes_package_and_console_script(env, tmp_path):
    w = make_wheel(tmp_path / "demo-1.0-py3-none-any.whl", "1.0", {
        "demo/__init__.py": "", "demo/cli.py": "def main():\n    print('hello 1')\n    return 0\n"})
    assert wheelinstall.main([env, w]) == 0
    out = subprocess.run([f"{env}/bin/demo-hello"], capture_output=True, text=True, check=True)
    assert out.stdout == "hello 1\n"
    assert wheelinstall.install(env, w) is False          # same distribution: left alone


def test_upgrade_removes_the_previous_files(env, tmp_path):
    old = make_wheel(tmp_path / "demo-1.0-py3-none-any.whl", "1.0", {
        "demo/__init__.py": "", "demo/cli.py": "def main():\n    return 0\n", "demo/gone.py": ""})
    new = make_wheel(tmp_path / "demo-2.0-py3-none-any.whl", "2.0", {
        "demo/__init__.py": "", "demo/cli.py": "def main():\n    print('hello 2')\n    return 0\n"})
    wheelinstall.main([env, old])
    wheelinstall.main([env, "--force", new])
    site = wheelinstall.site_packages(env)
    assert not (tmp_path / site / "demo" / "gone.py").exists()
    out = subprocess.run([f"{env}/bin/demo-hello"], capture_output=True, text=True, check=True)
    assert out.stdout == "hello 2\n"


def test_usage_without_a_venv(tmp_path, capsys):
    assert wheelinstall.main([str(tmp_path / "nope"), "x.whl"]) == 2
    assert "python3 -m venv" in capsys.readouterr().err


def test_runs_as_a_script_with_the_standard_library_only(env, tmp_path):
    w = make_wheel(tmp_path / "demo-1.0-py3-none-any.whl", "1.0", {"demo/__init__.py": "", "demo/cli.py": ""})
    res = subprocess.run([sys.executable, "-I", wheelinstall.__file__, env, w], capture_output=True, text=True)
    assert res.returncode == 0 and "installed demo-1.0" in res.stdout
