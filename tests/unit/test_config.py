"""The settings declarations (attribution.config, attribution.verification.settings): how a
variable's value is read, how a bad one is refused, and README.md's table held to them."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import functions_framework
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic.fields import FieldInfo

from attribution.alerts.channel_settings import smtp_settings_from_env
from attribution.bootstrap import check_settings
from attribution.config import (
    AlertChannels,
    DeclaredSettings,
    DuckDBAccess,
    Settings,
    declared_default,
    form_of,
    load_settings,
    variable_names,
)
from attribution.errors import SettingsError
from attribution.function_manifest import function_specs
from attribution.verification.outcome import Threshold
from attribution.verification.settings import (
    DEFAULT_THRESHOLDS,
    ThresholdVariables,
    VerifierSettings,
    load_verifier_settings,
)

README = Path(__file__).resolve().parents[2] / "README.md"
MODELS: tuple[type[DeclaredSettings], ...] = (
    Settings,
    AlertChannels,
    VerifierSettings,
    ThresholdVariables,
)
# Read by the Google client libraries themselves, not by this code: documented, not declared.
EMULATOR_HOSTS = {"STORAGE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST"}
THRESHOLD_ROW = "VERIFY_<CHECK>_<PARTIAL\\|FAIL>_<COUNT\\|PCT>"


def declaration(name: str) -> tuple[type[DeclaredSettings], str, FieldInfo]:
    """The model, field name and field that declare the variable ``name``."""
    for model in MODELS:
        for field_name, field in model.model_fields.items():
            if name in variable_names(field):
                return model, field_name, field
    raise KeyError(name)


def read(name: str, raw: str) -> Any:
    """The value of variable ``name`` when the environment holds only ``name=raw``."""
    model, field_name, _ = declaration(name)
    return getattr(model.from_environment({name: raw}), field_name)


def refusal(name: str, raw: str) -> SettingsError:
    with pytest.raises(SettingsError) as caught:
        read(name, raw)
    assert caught.value.variable == name
    return caught.value


def variables_whose_form(starts: str) -> list[str]:
    return sorted(
        name
        for model in MODELS
        for field in model.model_fields.values()
        for name in variable_names(field)[:1]
        if form_of(field).startswith(starts)
    )


WHOLE = variables_whose_form("a whole number")
NUMBER = variables_whose_form("a number")
CHOICE = variables_whose_form("one of: ")


def is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def is_finite_float(text: str) -> bool:
    try:
        value = float(text)
    except ValueError:
        return False
    return value - value == 0


# --- numbers and choices, for every variable of the kind --------------------------------------


def test_every_kind_has_variables() -> None:
    assert {"MAX_MODEL_BYTES", "MODEL_CACHE_SIZE", "SMTP_PORT", "VERIFY_MIN_SAMPLE"} <= set(WHOLE)
    assert "VERIFY_ATTRIBUTION_FAIL_COUNT" in WHOLE
    assert {"MIN_EDGE", "VERIFY_HIGH_EDGE", "VERIFY_ATTRIBUTION_FAIL_PCT"} <= set(NUMBER)
    assert {"DUCKDB_ACCESS", "LOG_LEVEL", "LOG_FORMAT", "ALERT_NOTIFIER", "SMTP_TLS"} <= set(CHOICE)


@pytest.mark.parametrize("name", NUMBER)
@given(value=st.floats(allow_nan=False, allow_infinity=False))
def test_a_float_string_is_that_float_or_refused_as_out_of_range(name: str, value: float) -> None:
    text = repr(value)
    try:
        parsed = read(name, f" {text} ")
    except SettingsError as error:
        assert error.variable == name
        assert error.message == f"{name}={text!r} must be {form_of(declaration(name)[2])}"
    else:
        assert parsed == float(text)


@pytest.mark.parametrize("name", NUMBER)
@given(text=st.text().filter(lambda t: t.strip() != "" and not is_finite_float(t.strip())))
def test_what_is_not_a_finite_number_is_refused_naming_the_variable(name: str, text: str) -> None:
    error = refusal(name, text)
    assert error.message == f"{name}={text.strip()!r} must be {form_of(declaration(name)[2])}"


@pytest.mark.parametrize("name", WHOLE)
@given(value=st.integers())
def test_an_integer_string_is_that_integer_or_refused_as_out_of_range(
    name: str, value: int
) -> None:
    try:
        parsed = read(name, str(value))
    except SettingsError as error:
        assert error.variable == name
        assert error.message == f"{name}={str(value)!r} must be {form_of(declaration(name)[2])}"
    else:
        assert parsed == value


@pytest.mark.parametrize("name", WHOLE)
@given(text=st.text().filter(lambda t: t.strip() != "" and not is_int(t.strip())))
def test_a_non_integer_string_is_refused_naming_the_variable(name: str, text: str) -> None:
    error = refusal(name, text)
    assert error.message.startswith(f"{name}={text.strip()!r} must be a whole number")


@pytest.mark.parametrize("name", WHOLE)
@given(value=st.floats(allow_nan=False, allow_infinity=False).filter(lambda v: v != int(v)))
def test_a_fraction_is_never_rounded_to_a_whole_number(name: str, value: float) -> None:
    refusal(name, repr(value))


def choices(name: str) -> list[str]:
    return form_of(declaration(name)[2]).removeprefix("one of: ").split(", ")


@pytest.mark.parametrize("name", CHOICE)
@given(data=st.data())
def test_a_choice_is_read_whatever_its_case_and_blanks(name: str, data: st.DataObject) -> None:
    choice = data.draw(st.sampled_from(choices(name)))
    cased = "".join(data.draw(st.sampled_from([c.lower(), c.upper()])) for c in choice)
    blanks = data.draw(st.sampled_from(["", " ", "\t", "  "]))
    assert read(name, f"{blanks}{cased}{blanks}") == choice


@pytest.mark.parametrize("name", CHOICE)
@given(text=st.text(min_size=1))
def test_anything_else_is_refused_with_every_choice_listed(name: str, text: str) -> None:
    allowed = {c.lower() for c in choices(name)}
    if not text.strip() or text.strip().lower() in allowed:
        return
    error = refusal(name, text)
    assert error.message.endswith(f" must be one of: {', '.join(choices(name))}")


@pytest.mark.parametrize(
    "name",
    sorted(
        n
        for n in Settings.variables() | VerifierSettings.variables()
        if n not in {"MODELS_PREFIX", "CARDS_PREFIX", "BATCH_INPUTS_PREFIX"}
    ),
)
def test_a_blank_value_is_the_default(name: str) -> None:
    model, field_name, _ = declaration(name)
    assert getattr(model.from_environment({name: " \t"}), field_name) == getattr(
        model(), field_name
    )


# --- each error path --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("MAX_MODEL_BYTES", "abc", "MAX_MODEL_BYTES='abc' must be a whole number of at least 1"),
        ("MAX_MODEL_BYTES", "-1", "MAX_MODEL_BYTES='-1' must be a whole number of at least 1"),
        ("MAX_MODEL_BYTES", "1e9", "MAX_MODEL_BYTES='1e9' must be a whole number of at least 1"),
        ("MODEL_CACHE_SIZE", "2.0", "MODEL_CACHE_SIZE='2.0' must be a whole number of at least 1"),
        ("VERIFY_MIN_SAMPLE", "30.5", "VERIFY_MIN_SAMPLE='30.5' must be a whole number"),
        ("VERIFY_SAMPLE_SIZE", "ten", "VERIFY_SAMPLE_SIZE='ten' must be a whole number"),
        ("VERIFY_HIGH_EDGE", "inf", "VERIFY_HIGH_EDGE='inf' must be a number"),
        (
            "VERIFY_COMPLETENESS_FAIL_PCT",
            "5%",
            "VERIFY_COMPLETENESS_FAIL_PCT='5%' must be a number",
        ),
        ("MIN_EDGE", "nan", "MIN_EDGE='nan' must be a number of at least 0"),
        ("BATCH_LEASE_SECONDS", "0", "BATCH_LEASE_SECONDS='0' must be a number greater than 0"),
        (
            "OVER_PROBABILITY_THRESHOLD",
            "0.49",
            "OVER_PROBABILITY_THRESHOLD='0.49' must be a number from 0.5 to 1",
        ),
        ("DUCKDB_ACCESS", "bogus", "DUCKDB_ACCESS='bogus' must be one of: exclusive, shared"),
        (
            "LOG_LEVEL",
            "loud",
            "LOG_LEVEL='loud' must be one of: DEBUG, INFO, WARNING, ERROR, CRITICAL",
        ),
        ("LOG_FORMAT", "xml", "LOG_FORMAT='xml' must be one of: auto, json, text"),
        ("ALERT_NOTIFIER", "pager", "ALERT_NOTIFIER='pager' must be one of: auto, console"),
        ("SMTP_TLS", "tls1.3", "SMTP_TLS='tls1.3' must be one of: starttls, ssl, none"),
        ("SMTP_PORT", "65536", "SMTP_PORT='65536' must be a whole number from 1 to 65535"),
        (
            "VERIFY_TIMEZONE",
            "Mars/Olympus",
            "VERIFY_TIMEZONE='Mars/Olympus' must be an IANA time zone name, e.g. America/New_York",
        ),
    ],
)
def test_a_bad_value_names_the_variable_and_what_it_takes(
    name: str, raw: str, message: str
) -> None:
    assert refusal(name, raw).message == message


def test_the_loaders_refuse_a_bad_value_as_a_value_error_too() -> None:
    with pytest.raises(ValueError, match=r"^MAX_MODEL_BYTES='abc' "):
        load_settings({"MAX_MODEL_BYTES": "abc"})
    with pytest.raises(SettingsError, match=r"^VERIFY_MIN_SAMPLE='30.5' "):
        load_verifier_settings({"VERIFY_MIN_SAMPLE": "30.5"})
    with pytest.raises(SettingsError, match=r"^SMTP_PORT='smtp' "):
        smtp_settings_from_env({"SMTP_PORT": "smtp"})


def test_a_keyword_nobody_declared_is_refused() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings(max_model_byte=10)
    assert caught.value.variable == "max_model_byte"


def test_a_refused_secret_is_never_quoted() -> None:
    with pytest.raises(SettingsError) as caught:
        AlertChannels(smtp_password=["hunter2"])
    assert caught.value.message == "SMTP_PASSWORD=[secret] must be text"


# --- what is read, and from where --------------------------------------------------------------


def test_settings_built_in_code_never_read_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MAX_MODEL_BYTES", "abc")
    monkeypatch.setenv("MODELS_BUCKET", "from-the-environment")
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T/B/X")
    monkeypatch.setenv("VERIFY_MIN_SAMPLE", "30.5")
    assert Settings().models_bucket == "models"
    assert Settings().alert_channels == AlertChannels()
    assert VerifierSettings().min_sample == 30
    assert load_settings({}) == Settings()
    assert load_verifier_settings({}) == VerifierSettings()
    with pytest.raises(SettingsError, match="MAX_MODEL_BYTES"):
        load_settings()


def test_values_are_read_as_declared() -> None:
    settings = load_settings(
        {
            "MODELS_BUCKET": " uploads ",
            "GOOGLE_CLOUD_PROJECT": "fallback",
            "MODELS_PREFIX": "",  # empty is no prefix: the whole bucket
            "CARDS_PREFIX": "/cards//",
            "DUCKDB_ACCESS": "SHARED",
            "LOG_FORMAT": " Text ",
            "MAX_MODEL_BYTES": "1_000",
        }
    )
    assert settings.models_bucket == settings.cards_bucket == "uploads"
    assert settings.project == "fallback"
    assert (settings.models_prefix, settings.cards_prefix) == ("", "cards/")
    assert settings.duckdb_access is DuckDBAccess.SHARED
    assert (settings.log_format, settings.max_model_bytes) == ("text", 1000)
    both = load_settings({"GCP_PROJECT": "first", "GOOGLE_CLOUD_PROJECT": "second"})
    assert both.project == "first"
    assert Settings(cards_bucket="cards").cards_bucket == "cards"


def test_an_empty_threshold_turns_its_trigger_off() -> None:
    settings = load_verifier_settings(
        {"VERIFY_ATTRIBUTION_FAIL_COUNT": "", "VERIFY_ATTRIBUTION_FAIL_PCT": " 50 "}
    )
    assert settings.thresholds["attribution"] == Threshold(
        partial_count=1, fail_count=None, fail_pct=50.0
    )
    untouched = {k: v for k, v in settings.thresholds.items() if k != "attribution"}
    assert untouched == {k: v for k, v in DEFAULT_THRESHOLDS.items() if k != "attribution"}


def test_secrets_are_kept_as_given_and_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    password = "  two spaces either side  "
    monkeypatch.setenv("SMTP_PASSWORD", password)
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T/B/SECRETPART")
    settings = load_settings()
    channels = settings.alert_channels
    assert channels.smtp_password is not None
    assert channels.smtp_password.get_secret_value() == password
    for shown in (repr(settings), str(settings), repr(channels), str(channels)):
        assert "two spaces" not in shown and "SECRETPART" not in shown
    assert "alert_channels" not in repr(settings)


# --- at start-up ----------------------------------------------------------------------------


def test_check_settings_refuses_what_building_the_app_would(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    check_settings()
    monkeypatch.setenv("SMTP_HOST", "mail.example.com")
    with pytest.raises(SettingsError, match="ALERT_EMAIL_TO"):
        check_settings()


@pytest.mark.parametrize(
    ("function", "name", "raw"),
    [
        ("model_upload", "MAX_MODEL_BYTES", "abc"),
        ("prediction_batch", "LOG_LEVEL", "loud"),
        ("verifier", "VERIFY_MIN_SAMPLE", "30.5"),
    ],
)
def test_a_function_with_a_bad_setting_fails_as_it_loads(
    monkeypatch: pytest.MonkeyPatch, function: str, name: str, raw: str
) -> None:
    """Before any event: loading the function's module is what refuses."""
    spec = function_specs()[function]
    monkeypatch.setenv(name, raw)
    # The framework loads the file as the module "main" and puts its folder on sys.path.
    monkeypatch.delitem(sys.modules, "main", raising=False)
    monkeypatch.setattr(sys, "path", list(sys.path))
    with pytest.raises(SettingsError) as caught:
        functions_framework.create_app(spec.entry_point, str(spec.source), spec.signature)
    assert caught.value.variable == name


# --- README.md's table --------------------------------------------------------------------------


def readme_defaults() -> dict[str, str]:
    """Each variable of README.md's configuration table, to its default column."""
    text = README.read_text()
    start = text.index("## Configuration")
    section = text[start : text.index("\n## ", start + 1)]
    found: dict[str, str] = {}
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]
        quoted = re.fullmatch(r"`([^`]*)`", cells[1])
        default = quoted.group(1) if quoted else cells[1]
        for name in re.findall(r"`([^`]+)`", cells[0]):
            found[name] = default
    return found


def same_default(documented: str, declared: str) -> bool:
    if is_finite_float(documented) and is_finite_float(declared):
        return float(documented) == float(declared)
    return documented == declared


def test_every_declared_variable_has_a_row_with_its_default_and_every_row_is_declared() -> None:
    rows = readme_defaults()
    assert rows.pop(THRESHOLD_ROW) == "see `verification/settings.py`"
    for name in EMULATOR_HOSTS:
        assert rows.pop(name) == ""
    declared = {
        name: field
        for model in (Settings, VerifierSettings)
        for name, field in model.variables().items()
    }
    assert sorted(set(rows) - set(declared)) == [], "rows nothing declares"
    assert sorted(set(declared) - set(rows)) == [], "declared variables without a row"
    wrong = {
        name: (rows[name], declared_default(field))
        for name, field in declared.items()
        if not same_default(rows[name], declared_default(field))
    }
    assert wrong == {}


def test_bring_your_own_model_names_the_high_edge_setting_and_its_default() -> None:
    """What a points model's expected_hit_rate is held against, as the section says it."""
    text = README.read_text()
    start = text.index("## Bring your own model")
    section = " ".join(text[start : text.index("\n## ", start + 1)].split())
    field = VerifierSettings.model_fields["high_edge"]
    (name,) = variable_names(field)
    assert name == "VERIFY_HIGH_EDGE"
    default = load_verifier_settings({}).high_edge
    assert default == 5.0
    assert (
        "for a points model, its high-edge hit rate (the picks with |edge| at least "
        f"`{name}`, default {default:g}); for an over/under classifier, the hit rate of all its "
        "picks." in section
    )


def test_the_threshold_row_names_exactly_the_threshold_variables() -> None:
    checks = "|".join(check.upper() for check in DEFAULT_THRESHOLDS)
    pattern = rf"VERIFY_({checks})_(PARTIAL|FAIL)_(COUNT|PCT)"
    declared = set(ThresholdVariables.variables())
    assert len(declared) == 4 * len(DEFAULT_THRESHOLDS)
    assert all(re.fullmatch(pattern, name) for name in declared)
    # ...and no other declared variable looks like one.
    others = set(Settings.variables()) | set(VerifierSettings.variables())
    assert not [name for name in others if re.fullmatch(pattern, name)]
