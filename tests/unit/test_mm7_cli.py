"""``telco-channels simulate mmsc``: registered in the lazy group, options validated with clear errors."""

from __future__ import annotations

from click.testing import CliRunner

from channels.cli.main import cli


def test_mmsc_is_listed_and_documents_its_options() -> None:
    runner = CliRunner()
    listing = runner.invoke(cli, ["simulate", "--help"])
    assert listing.exit_code == 0 and "mmsc" in listing.output
    result = runner.invoke(cli, ["simulate", "mmsc", "--help"])
    assert result.exit_code == 0
    for option in ("--port", "--profile", "--outcomes", "--storage-hours", "--renotify-after", "--errors"):
        assert option in result.output


def test_bad_options_are_refused_before_listening() -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["simulate", "mmsc", "--port", "0", "--outcomes", "Lost=1"])
    assert result.exit_code == 2 and "Lost" in result.output
    result = runner.invoke(cli, ["simulate", "mmsc", "--port", "0", "--report-delay", "5,1"])
    assert result.exit_code == 2 and "MIN,MAX" in result.output
