from __future__ import annotations

import hashlib
import hmac

import pytest

from interlink.connectors.accord.signature import (
    SignatureRejected,
    compute_signature,
    signature_headers,
    verify_signature,
)
from interlink.simulators.accord.simulator import sign as simulator_sign

SECRET = "whsec-0123456789"
BODY = b'{"event_id":"evt_1"}'
NOW = 1_795_340_400


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert compute_signature(SECRET, NOW, BODY) == expected
    assert signature_headers(SECRET, BODY, timestamp=NOW) == {
        "X-Accord-Timestamp": str(NOW),
        "X-Accord-Signature": f"v1={expected}",
    }


def test_the_simulator_signs_what_the_verifier_accepts() -> None:
    # Written separately on purpose: a mistake shared by both would otherwise pass unnoticed.
    headers = {"x-accord-timestamp": str(NOW), "x-accord-signature": simulator_sign(SECRET, NOW, BODY)}
    assert verify_signature(SECRET, body=BODY, headers=headers, now=NOW) == NOW


def test_a_valid_signature_within_the_window_passes_and_header_case_does_not_matter() -> None:
    headers = {key.lower(): value for key, value in signature_headers(SECRET, BODY, timestamp=NOW - 299).items()}
    assert verify_signature(SECRET, body=BODY, headers=headers, now=NOW) == NOW - 299


def test_any_of_several_signatures_may_match_during_a_secret_rotation() -> None:
    good = compute_signature(SECRET, NOW, BODY)
    headers = {"X-Accord-Timestamp": str(NOW), "X-Accord-Signature": f"v1={'0' * 64}, v1={good}"}
    verify_signature(SECRET, body=BODY, headers=headers, now=NOW)


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"X-Accord-Signature": "v1=abc"}, "X-Accord-Timestamp header is missing"),
        ({"X-Accord-Timestamp": str(NOW)}, "X-Accord-Signature header is missing"),
        ({"X-Accord-Timestamp": "2026-11-22T09:00:00Z", "X-Accord-Signature": "v1=abc"}, "whole seconds"),
        ({"X-Accord-Timestamp": str(NOW * 1000), "X-Accord-Signature": "v1=abc"}, "looks like milliseconds"),
        ({"X-Accord-Timestamp": str(NOW), "X-Accord-Signature": "sha256=abc"}, "no v1=<hex> signature"),
        ({"X-Accord-Timestamp": str(NOW), "X-Accord-Signature": "v1=" + "0" * 64}, "does not match"),
    ],
)
def test_missing_or_malformed_headers_are_rejected_with_the_reason(headers: dict[str, str], reason: str) -> None:
    with pytest.raises(SignatureRejected, match=reason):
        verify_signature(SECRET, body=BODY, headers=headers, now=NOW)


def test_a_different_body_or_secret_does_not_verify() -> None:
    headers = signature_headers(SECRET, BODY, timestamp=NOW)
    with pytest.raises(SignatureRejected, match="does not match"):
        verify_signature(SECRET, body=BODY + b" ", headers=headers, now=NOW)
    with pytest.raises(SignatureRejected, match="does not match"):
        verify_signature("another-secret", body=BODY, headers=headers, now=NOW)


@pytest.mark.parametrize(("sent_at", "word"), [(NOW - 301, "old"), (NOW + 301, "in the future")])
def test_a_timestamp_outside_five_minutes_is_rejected_even_when_signed(sent_at: int, word: str) -> None:
    headers = signature_headers(SECRET, BODY, timestamp=sent_at)
    with pytest.raises(SignatureRejected, match=f"301 seconds {word}"):
        verify_signature(SECRET, body=BODY, headers=headers, now=NOW)
