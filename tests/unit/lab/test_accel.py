import os

from orchestra.lab.accel import kvm_usable


def make(tmp_path, flags="fpu vmx sse", pvm=False, dev_mode=0o666):
    dev = tmp_path / "kvm"
    dev.write_text("")
    os.chmod(dev, dev_mode)
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"flags\t\t: {flags}\n")
    modules = tmp_path / "modules"
    (modules / ("kvm_pvm" if pvm else "kvm")).mkdir(parents=True)
    return dict(dev=str(dev), cpuinfo=str(cpuinfo), modules=str(modules))


def test_kvm_with_hardware_virtualization(tmp_path, monkeypatch):
    monkeypatch.delenv("ORCHESTRA_ACCEL", raising=False)
    assert kvm_usable(**make(tmp_path))


def test_paravirtual_kvm_falls_back_to_tcg(tmp_path, monkeypatch):
    monkeypatch.delenv("ORCHESTRA_ACCEL", raising=False)
    assert not kvm_usable(**make(tmp_path, pvm=True))


def test_no_vmx_or_svm_falls_back(tmp_path, monkeypatch):
    monkeypatch.delenv("ORCHESTRA_ACCEL", raising=False)
    assert not kvm_usable(**make(tmp_path, flags="fpu sse hypervisor"))


def test_no_device(tmp_path, monkeypatch):
    monkeypatch.delenv("ORCHESTRA_ACCEL", raising=False)
    paths = make(tmp_path)
    paths["dev"] = str(tmp_path / "missing")
    assert not kvm_usable(**paths)


def test_override(tmp_path, monkeypatch):
    monkeypatch.setenv("ORCHESTRA_ACCEL", "tcg")
    assert not kvm_usable(**make(tmp_path))
