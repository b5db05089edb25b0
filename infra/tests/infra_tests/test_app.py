"""The app entry point and the zips: a missing zip is reported with what to do about it."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra import app
from infra.functions import FUNCTIONS, MissingLambdaZip, code_from_dist


def test_zip_paths_are_where_pants_package_writes_them() -> None:
    assert sorted(f.zip_path for f in FUNCTIONS) == [
        "audio-transcription.src.audio_transcription.handlers/audio_processor.zip",
        "session-management.src.session_management.handlers/connection.zip",
        "session-management.src.session_management.handlers/session_status.zip",
    ]


def test_code_from_dist_finds_every_zip(tmp_path: Path) -> None:
    for f in FUNCTIONS:
        (tmp_path / f.dist_dir).mkdir(exist_ok=True)
        (tmp_path / f.zip_path).write_bytes(b"PK\x05\x06" + b"\0" * 18)  # an empty zip
    code = code_from_dist(tmp_path)
    assert sorted(code) == sorted(f.label for f in FUNCTIONS)


def test_a_missing_zip_says_which_and_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(MissingLambdaZip) as raised:
        code_from_dist(tmp_path)
    message = str(raised.value)
    for f in FUNCTIONS:
        assert str(tmp_path / f.zip_path) in message
    assert "./pants package ::" in message and "INFRA_LAMBDA_DIST" in message


def test_the_app_exits_with_the_message_instead_of_a_jsii_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("INFRA_LAMBDA_DIST", str(tmp_path / "nowhere"))
    monkeypatch.setenv("CDK_OUTDIR", str(tmp_path / "cdk.out"))
    assert app.main() == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Lambda zip(s) not found:")
    assert "./pants package ::" in err


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("INFRA_CRITICAL_URLS", "http://hooks.example.com/x", "INFRA_CRITICAL_URLS"),
        ("INFRA_ACCOUNT_CONCURRENCY", "lots", "must be a positive integer"),
        ("INFRA_CANARY_SCHEDULE_MINUTES", "often", "must be a whole number of minutes"),
        ("INFRA_CANARY_SCHEDULE_MINUTES", "4", "every 5..60 minutes"),
        ("INFRA_CANARY_URL", "https://live.example.com/prod", "must be the wss:// URL"),
    ],
)
def test_a_bad_setting_exits_2_with_its_name(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    value: str,
    message: str,
) -> None:
    monkeypatch.setenv("CDK_OUTDIR", str(tmp_path / "cdk.out"))
    monkeypatch.setenv(variable, value)
    assert app.main() == 2
    err = capsys.readouterr().err
    assert variable in err and message in err
