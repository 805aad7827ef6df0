import pytest
from hypothesis import given, strategies as st

from orchestra.security.tokens import (TokenError, check_token, format_token, hash_secret, new_token, parse_duration,
                                       parse_labels, parse_token, token_state)

FP = "ab" * 32
NOW = 1_700_000_000_000


def test_new_token_has_k3s_format_and_stores_only_a_hash():
    token, record = new_token(FP, NOW, 3600, {"zone": "a"})
    assert token.startswith("K10" + FP + "::")
    parsed = parse_token(token)
    assert parsed.ca_fingerprint == FP and parsed.token_id == record.id
    assert parsed.secret not in repr(record)
    assert record.secret_hash == hash_secret(parsed.secret)
    assert record.expires_at_ms == NOW + 3_600_000 and record.labels == {"zone": "a"}
    assert parsed.credential == f"{record.id}.{parsed.secret}"


def test_ttl_zero_never_expires():
    token, record = new_token(FP, NOW, 0)
    assert record.expires_at_ms == 0
    assert check_token(parse_token(token).credential, record, NOW + 10**12) == record


def test_two_tokens_differ():
    a, _ = new_token(FP, NOW)
    b, _ = new_token(FP, NOW)
    assert a != b


def test_check_token_refusals_say_why():
    token, record = new_token(FP, NOW, 60)
    cred = parse_token(token).credential
    assert check_token(cred, record, NOW + 59_000) is record
    with pytest.raises(TokenError, match="expired at"):
        check_token(cred, record, NOW + 60_000)
    with pytest.raises(TokenError, match="is unknown"):
        check_token(cred, None, NOW)
    wrong = cred[:-1] + ("0" if cred[-1] != "0" else "1")
    with pytest.raises(TokenError, match="secret does not match"):
        check_token(wrong, record, NOW)
    from dataclasses import replace
    with pytest.raises(TokenError, match="was revoked"):
        check_token(cred, replace(record, revoked=True), NOW)
    assert token_state(replace(record, revoked=True), NOW) == "revoked"
    assert token_state(record, NOW + 61_000) == "expired"


@pytest.mark.parametrize("bad", ["", "abc", "K10xyz::abcdef.0123", "K10" + FP + "::abc.def",
                                 "abcdef.0123456789abcdef0123456789abcdef", "K10" + "AB" * 32 + "::abcdef." + "a" * 32])
def test_malformed_tokens_are_refused_with_the_format(bad):
    with pytest.raises(TokenError, match="K10"):
        parse_token(bad)


def test_short_form_only_where_allowed():
    parsed = parse_token("abcdef." + "0" * 32, require_fingerprint=False)
    assert parsed.ca_fingerprint == "" and parsed.token_id == "abcdef"


@given(st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
       st.text(alphabet="0123456789abcdefghijklmnopqrstuvwxyz", min_size=6, max_size=6),
       st.text(alphabet="0123456789abcdefghijklmnopqrstuvwxyz", min_size=32, max_size=32))
def test_format_parse_round_trip(fp, tid, secret):
    p = parse_token(format_token(fp, tid, secret))
    assert (p.ca_fingerprint, p.token_id, p.secret) == (fp, tid, secret)


@given(st.text(max_size=120))
def test_parse_never_crashes_on_garbage(text):
    try:
        parse_token(text)
    except TokenError:
        pass


def test_durations():
    assert parse_duration("24h") == 86400
    assert parse_duration("30m") == 1800
    assert parse_duration("7d") == 7 * 86400
    assert parse_duration("0") == 0
    assert parse_duration("1.5h") == 5400
    for bad in ("", "1x", "-1h", "h", "500ms"):
        with pytest.raises(TokenError, match="invalid duration"):
            parse_duration(bad)


def test_labels():
    assert parse_labels(["zone=a", "tier=web,disk=ssd"]) == {"zone": "a", "tier": "web", "disk": "ssd"}
    with pytest.raises(TokenError, match="invalid label"):
        parse_labels(["zone"])
