import pytest

from orchestra.bench import families as fam

SYSBENCH = """sysbench 1.0.20 (using system LuaJIT 2.1.0-beta3)
CPU speed:
    events per second:  7490.89

General statistics:
    total time:                          1.0064s
"""
AB = """Server Software:        busybox
Complete requests:      200
Failed requests:        0
Requests per second:    1843.52 [#/sec] (mean)
"""


def test_sysbench_events_per_second():
    assert fam.parse_cpu_prime(SYSBENCH) == {"cpu_prime": 7490.89}


def test_gzip_rate_is_input_megabytes_per_second():
    out = "gzip_bytes 2000000\ngzip_start 100.250000\ngzip_end 100.750000\n"
    assert fam.parse_cpu_gzip(out) == {"cpu_gzip": pytest.approx(4.0)}


def test_stream_kernels():
    out = "copy 10454.0\nscale 6924.9\nadd 8732.8\ntriad 8268.9\nchecksum 1.1e+09\n"
    assert fam.parse_memory(out) == {"mem_copy": 10454.0, "mem_scale": 6924.9, "mem_add": 8732.8,
                                     "mem_triad": 8268.9}


def test_dd_rates_come_from_bytes_and_seconds_not_its_rounded_rate():
    out = ("disk_write 67108864 bytes (67 MB, 64 MiB) copied, 0.5 s, 134 MB/s\n"
           "disk_read 67108864 bytes (67 MB, 64 MiB) copied, 0.25 s, 268 MB/s\n")
    got = fam.parse_disk(out)
    assert got["disk_write"] == pytest.approx(134.217728) and got["disk_read"] == pytest.approx(268.435456)


def test_ab_requests_per_second_and_failures():
    assert fam.parse_http(AB) == {"http_rps": 1843.52}
    with pytest.raises(fam.ParseError, match="3 requests failed"):
        fam.parse_http(AB.replace("Failed requests:        0", "Failed requests:        3"))


def test_creation_span():
    assert fam.parse_create("create_start 5.000000\ncreate_end 5.012500\n") == {"create": pytest.approx(0.0125)}


@pytest.mark.parametrize("parse,text", [(fam.parse_cpu_prime, "Segmentation fault"),
                                        (fam.parse_memory, "copy 1\n"),
                                        (fam.parse_disk, "dd: failed to open 'x': Invalid argument"),
                                        (fam.parse_create, "create_start 2.0\ncreate_end 1.0\n")])
def test_unexpected_output_is_an_error_that_quotes_it(parse, text):
    with pytest.raises(fam.ParseError) as e:
        parse(text)
    assert text.split("\n")[0][:10] in str(e.value) or "backwards" in str(e.value)


def test_scripts_use_one_record_size_and_direct_io_and_loopback_only():
    s = fam.Sizes.short(disk_mib=32)
    disk = fam.disk(s, "/w")
    assert "bs=1M count=32 oflag=direct" in disk and "iflag=direct" in disk
    http = fam.http(s, "/w", 18080)
    assert "httpd -f -p 127.0.0.1:18080" in http and "http://127.0.0.1:18080/" in http
    assert "--threads=1" in fam.cpu_prime(s)


def test_full_sizes_follow_the_study():
    full = fam.Sizes.full()
    assert full.disk_mib == 4096 and full.prime_limit == 20000
    assert fam.Sizes.short().disk_mib < full.disk_mib


def test_one_run_holds_every_family_and_its_output_splits_back():
    from orchestra.bench import isolation
    tests = [("a", "echo one\n", None), ("b", "echo two\necho three\n", None)]
    script = isolation.one_run(tests)
    assert script.startswith("set -e\n") and script.count(isolation.MARK) == 2
    assert f"echo '{isolation.MARK}b'\n(\necho two\necho three\n)\n" in script
    out = f"{isolation.MARK}a\none\n{isolation.MARK}b\ntwo\nthree\n"
    assert isolation.split_run(out) == {"a": "one\n", "b": "two\nthree\n"}
