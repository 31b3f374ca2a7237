"""Bucket and object names held to the rules GCS applies, in one place, and by split_gs_uri."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attribution.errors import PermanentError
from attribution.objects import check_bucket_name, check_object_name, split_gs_uri


def refused(check: object, name: str) -> PermanentError:
    assert callable(check)
    with pytest.raises(PermanentError) as caught:
        check(name)
    return caught.value


@pytest.mark.parametrize(
    "name",
    [
        "models",
        "abc",
        "a" * 63,
        "my-project-models",
        "under_score_1",
        "0models9",
        "example.com",
        ".".join(["a" * 63] * 3) + "." + "b" * 30,  # 222 characters, parts of 63
        "1.2.3.4x",  # not four numbers
        "1.2.3",
    ],
)
def test_names_gcs_accepts_as_buckets(name: str) -> None:
    assert check_bucket_name(name) == name


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("..", "characters"),  # too short, and the finding's gs://../private.csv
        ("...", "start and end with a letter or a digit"),
        ("a..b", "empty dot-separated component"),
        ("ab", "2 characters"),
        ("a" * 64, "64 characters, not 3-63"),
        (".".join(["a" * 63] * 3) + "." + "b" * 31, "223 characters"),
        ("a" * 64 + ".com", "longer than 63"),
        ("Models", "lowercase"),
        ("my bucket", "lowercase"),
        ("models/x", "lowercase"),
        ("-models", "start and end"),
        ("models_", "start and end"),
        (".models", "start and end"),
        ("192.168.5.4", "IP address"),
        ("goog-models", "goog"),
        ("my-google-bucket", "google"),
        ("my-g00gle-bucket", "google"),
        ("", "0 characters"),
    ],
)
def test_names_gcs_refuses_as_buckets(name: str, problem: str) -> None:
    error = refused(check_bucket_name, name)
    assert error.code == "bad_bucket_name"
    assert problem in error.message
    assert "bucket name" in error.message


def test_a_huge_bucket_name_is_quoted_short() -> None:
    error = refused(check_bucket_name, "x" * 1_000_000)
    assert error.code == "bad_bucket_name"
    assert len(error.message) < 300 and "1000000 characters" in error.message


BUCKET = re.compile(r"[a-z0-9][a-z0-9_.-]*[a-z0-9]")


@given(st.text(alphabet="abz09-_.A/ ", min_size=0, max_size=70))
def test_bucket_rules_match_an_independent_statement_of_them(name: str) -> None:
    parts = name.split(".")
    expected = (
        bool(BUCKET.fullmatch(name))
        and 3 <= len(name) <= (222 if "." in name else 63)
        and all(0 < len(p) <= 63 for p in parts)
        and not (len(parts) == 4 and all(p.isdigit() for p in parts))
        and not name.startswith("goog")
        and "google" not in name.replace("0", "o")
    )
    try:
        check_bucket_name(name)
        accepted = True
    except PermanentError as exc:
        assert exc.code == "bad_bucket_name"
        accepted = False
    assert accepted is expected


@pytest.mark.parametrize(
    "name",
    [
        "models/catboost_v9.cbm",
        "a",
        "models/2026/02/v9 final#1.cbm",
        "models/é-ü.cbm",
        "x" * 1024,
        "é" * 512,  # 1024 bytes in UTF-8
        "models/..hidden.cbm",
        "models/.well-known/acme-challenge/x",  # only the top-level prefix is reserved
        "a//b",
    ],
)
def test_object_names_gcs_accepts(name: str) -> None:
    assert check_object_name(name) == name


@pytest.mark.parametrize(
    ("name", "code", "problem"),
    [
        ("", "bad_object_name", "0 bytes"),
        ("x" * 1025, "bad_object_name", "1025 bytes"),
        ("é" * 513, "bad_object_name", "1026 bytes"),
        ("models/a\nb.cbm", "bad_object_name", "line feed"),
        ("models/a\rb.cbm", "bad_object_name", "carriage return"),
        (".", "bad_object_name", "not allowed"),
        ("..", "bad_object_name", "not allowed"),
        (".well-known/acme-challenge/token", "bad_object_name", "acme-challenge"),
        ("models/\ud800.cbm", "bad_object_name", "not valid Unicode"),
        ("../private.csv", "unsafe_object_name", "escape"),
        ("batches/../../bus/topics/x.jsonl", "unsafe_object_name", "escape"),
        ("models/./x.cbm", "unsafe_object_name", "escape"),
        ("models/x/..", "unsafe_object_name", "escape"),
        ("/etc/passwd", "unsafe_object_name", "leading '/'"),
        ("models\\..\\x", "unsafe_object_name", "backslash"),
        ("models/x\x00.cbm", "unsafe_object_name", "control character"),
        ("models/x\x1b.cbm", "unsafe_object_name", "control character"),
    ],
)
def test_object_names_refused(name: str, code: str, problem: str) -> None:
    error = refused(check_object_name, name)
    assert (error.code, problem in error.message) == (code, True), error.message


def test_split_gs_uri_holds_both_names_to_the_rules() -> None:
    assert split_gs_uri("gs://models/batches/b-1/input.csv") == ("models", "batches/b-1/input.csv")
    cases = {
        "gs://../private.csv": "bad_bucket_name",
        "gs://../bus/topics/prediction-batches.jsonl": "bad_bucket_name",
        "gs://.../x.csv": "bad_bucket_name",
        "gs://Models/x.csv": "bad_bucket_name",
        "gs://models/": "bad_object_name",
        "gs://models/batches/../../../etc/passwd.csv": "unsafe_object_name",
        "gs://models/.well-known/acme-challenge/x": "bad_object_name",
        "gs://models//etc/passwd": "unsafe_object_name",
    }
    for uri, code in cases.items():
        error = refused(split_gs_uri, uri)
        assert error.code == code, (uri, error)
        assert error.message.startswith(uri + ": "), error.message


def test_split_gs_uri_quotes_a_huge_uri_short() -> None:
    error = refused(split_gs_uri, "gs://models/" + "x" * 5000)
    assert error.code == "bad_object_name"
    assert len(error.message) < 500
