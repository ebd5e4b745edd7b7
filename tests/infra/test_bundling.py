"""The dependency layer's requirements export (no synth: runs `uv export` only). No marker is
declared here: tests/conftest.py gives every test its folder's (tests/test_layout.py checks it)."""

from __future__ import annotations

import pytest

from infra.bundling import DependenciesBundler, RequirementsError, check_requirements, uv_environment
from infra.config import ROOT


@pytest.mark.parametrize("forcing", ["FORCE_COLOR", "CLICOLOR_FORCE", "UV_COLOR"])
def test_export_is_plain_text_even_when_the_caller_forces_colour(monkeypatch, forcing):
    """npm (hence `npx cdk synth`) sets FORCE_COLOR; uv must not colour the requirements file."""
    monkeypatch.setenv(forcing, "always" if forcing == "UV_COLOR" else "1")
    text = DependenciesBundler(ROOT).export_requirements()
    assert "\x1b" not in text
    pins = check_requirements(text)
    names = {line.split("==")[0].lower() for line in pins}
    assert {"web3", "pydantic", "aws-lambda-powertools", "groth16py"} <= names
    assert not names & {"moto", "pytest", "aws-cdk-lib", "zk-data-marketplace"}


def test_uv_runs_without_colour_forcing_variables():
    env = uv_environment({"PATH": "/bin", "FORCE_COLOR": "1", "CLICOLOR_FORCE": "1", "UV_COLOR": "always"})
    assert env == {"PATH": "/bin", "NO_COLOR": "1"}


@pytest.mark.parametrize("text", [
    "web3==7.10.0\n\x1b[32m    # via aiohttp\x1b[39m\n",  # what uv export wrote under FORCE_COLOR
    "\x1b[1mweb3==7.10.0\x1b[0m\n",
    "web3>=7\n",  # not pinned
    "-e .\n",
    "# only comments\n",
    "",
])
def test_a_requirements_file_that_is_not_plain_pins_is_refused(text):
    with pytest.raises(RequirementsError):
        check_requirements(text)


def test_pins_with_extras_and_markers_are_accepted():
    text = ("aws-lambda-powertools[parser,tracer]==3.37.0\n    # via zk-data-marketplace\n"
            "colorama==0.4.6 ; sys_platform == 'win32'\n\n")
    assert check_requirements(text) == ["aws-lambda-powertools[parser,tracer]==3.37.0",
                                        "colorama==0.4.6 ; sys_platform == 'win32'"]
