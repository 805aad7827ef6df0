import os
import subprocess
import venv
import zipfile

import pytest

from orchestra.lab import venvinstall


def make_wheel(path, version, files):
    info = f"demo-{version}.dist-info"
    files = dict(files)
    files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: demo\nVersion: {version}\n"
    files[f"{info}/WHEEL"] = "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
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
    assert venvinstall.main([env, w]) == 0
    out = subprocess.run([f"{env}/bin/demo-hello"], capture_output=True, text=True, check=True)
    assert out.stdout == "hello 1\n"
    assert venvinstall.install(env, w) is False          # same distribution: left alone


def test_upgrade_removes_the_previous_files(env, tmp_path):
    old = make_wheel(tmp_path / "demo-1.0-py3-none-any.whl", "1.0", {
        "demo/__init__.py": "", "demo/cli.py": "def main():\n    return 0\n", "demo/gone.py": ""})
    new = make_wheel(tmp_path / "demo-2.0-py3-none-any.whl", "2.0", {
        "demo/__init__.py": "", "demo/cli.py": "def main():\n    print('hello 2')\n    return 0\n"})
    venvinstall.main([env, old])
    venvinstall.main([env, "--force", new])
    site = venvinstall.site_packages(env)
    assert not os.path.exists(os.path.join(site, "demo", "gone.py"))
    assert sorted(d for d in os.listdir(site) if d.endswith(".dist-info")) == ["demo-2.0.dist-info"]
    out = subprocess.run([f"{env}/bin/demo-hello"], capture_output=True, text=True, check=True)
    assert out.stdout == "hello 2\n"


def test_staged_install_is_laid_out_for_its_runtime_prefix(tmp_path):
    w = make_wheel(tmp_path / "demo-1.0-py3-none-any.whl", "1.0", {
        "demo/__init__.py": "", "demo/cli.py": "def main():\n    return 0\n"})
    stage = tmp_path / "stage"
    assert venvinstall.install("/opt/x/venv", w, root=str(stage), python=(3, 11)) is True
    site = stage / "opt/x/venv/lib/python3.11/site-packages"
    assert (site / "demo" / "cli.py").is_file()
    script = (stage / "opt/x/venv/bin/demo-hello").read_text()
    assert script.startswith("#!/opt/x/venv/bin/python\n")       # the interpreter as the guest sees it
    assert os.access(stage / "opt/x/venv/bin/demo-hello", os.X_OK)


def test_usage_error_without_a_venv(tmp_path, capsys):
    assert venvinstall.main([str(tmp_path / "nope"), "x.whl"]) == 2
    assert "usage" in capsys.readouterr().err


def test_runs_in_a_guest_with_installer_from_its_wheel_only(env, tmp_path):
    """In a guest, venvinstall.py runs with nothing but installer's wheel on PYTHONPATH."""
    import installer
    src = os.path.dirname(installer.__file__)
    iw = tmp_path / "installer-0-py3-none-any.whl"
    with zipfile.ZipFile(iw, "w") as z:
        for dirpath, _, names in os.walk(src):
            for n in names:
                if n.endswith(".py"):
                    p = os.path.join(dirpath, n)
                    z.write(p, os.path.join("installer", os.path.relpath(p, src)))
    w = make_wheel(tmp_path / "demo-1.0-py3-none-any.whl", "1.0", {
        "demo/__init__.py": "", "demo/cli.py": "def main():\n    print('hi')\n    return 0\n"})
    res = subprocess.run([f"{env}/bin/python", venvinstall.__file__, env, w], capture_output=True, text=True,
                         env={"PATH": os.environ["PATH"], "PYTHONPATH": str(iw)})
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "installed demo-1.0-py3-none-any.whl"


def test_seed_copies_an_installed_distribution_with_its_bytecode_but_not_its_scripts(env, tmp_path):
    import compileall
    w = make_wheel(tmp_path / "demo-1.0-py3-none-any.whl", "1.0", {
        "demo/__init__.py": "X = 1\n", "demo/cli.py": "def main():\n    return 0\n"})
    other = tmp_path / "layer"
    venv.create(other, with_pip=False)
    venvinstall.install(str(other), w)
    other_site = venvinstall.site_packages(str(other))
    compileall.compile_dir(other_site, quiet=2)
    info = os.path.join(other_site, "demo-1.0.dist-info")
    assert venvinstall.main([env, "--seed", info]) == 0
    site = venvinstall.site_packages(env)
    assert open(os.path.join(site, "demo", "cli.py")).read() == "def main():\n    return 0\n"
    assert any(n.startswith("__init__.cpython-") for n in os.listdir(os.path.join(site, "demo", "__pycache__")))
    assert os.path.isfile(os.path.join(site, "demo-1.0.dist-info", "RECORD"))
    assert not os.path.exists(os.path.join(env, "bin", "demo-hello"))
    assert venvinstall.seed(env, info) is False                  # already there
    # and an upgrade by wheel later removes the seeded files like installed ones
    new = make_wheel(tmp_path / "demo-2.0-py3-none-any.whl", "2.0", {"demo/__init__.py": ""})
    venvinstall.install(env, new)
    assert not os.path.exists(os.path.join(site, "demo", "cli.py"))
