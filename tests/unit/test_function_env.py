"""Each function's config model reads exactly the variables resources.py declares for it.

(A function may read its environment without pydantic for import speed, e.g. ``access``: it has
no entry in ``config.MODELS`` and is checked by its own tests.)"""

from __future__ import annotations

import json

import pytest
from marketplace import config, resources
from pydantic import ValidationError

pytestmark = pytest.mark.unit


MODELLED = [f for f in resources.FUNCTIONS if f.name in config.MODELS]


@pytest.mark.parametrize("spec", MODELLED, ids=lambda s: s.name)
def test_config_model_matches_the_declared_environment(spec):
    model = config.MODELS[spec.name]
    assert set(config.field_aliases(model)) == set(resources.env_names(spec))


@pytest.mark.parametrize("setting", resources.SETTINGS, ids=lambda s: s.env)
def test_required_settings_are_exactly_those_without_a_default(setting):
    for spec in MODELLED:
        if setting.env in spec.settings:
            field = config.field_aliases(config.MODELS[spec.name])[setting.env]
            assert field.is_required() == setting.required, (spec.name, setting.env)


def test_every_model_belongs_to_a_function_and_flow_1_functions_have_one():
    assert set(config.MODELS) <= {f.name for f in resources.FUNCTIONS}
    assert {"auth", "authorizer", "content-api", "registration-worker", "openapi"} <= set(config.MODELS)


def test_worker_config_parses_the_deployment_json():
    env = {"CONTENT_TABLE": "t", "REGISTRATIONS_TABLE": "r", "CONTENT_BUCKET": "c", "UPLOADS_BUCKET": "u",
           "IDENTITY_SECRET_ID": "i", "RELAYER_KEY_ID": "k",
           "CHAIN_NONCES_TABLE": "n", "CHAIN_TXS_TABLE": "x",
           "CHAIN_CONFIG": json.dumps({"chainId": 31337, "rpcUrl": "http://127.0.0.1:8545",
                                       "contracts": {"ContentRegistry": "0x" + "ab" * 20}, "deployer": "0x0"})}
    cfg = config.RegistrationWorkerConfig.from_env(env)
    assert cfg.chain.chainId == 31337 and cfg.chain.address("ContentRegistry") == "0x" + "ab" * 20
    assert cfg.contracts_abi_dir == config.DEFAULT_ABI_DIR and cfg.tx_timeout_seconds == 120
    with pytest.raises(ValueError):
        cfg.chain.address("Nope")


def test_missing_or_malformed_variables_fail_validation():
    with pytest.raises(ValidationError) as err:
        config.AuthConfig.from_env({"AUTH_TABLE": "a", "JWT_SECRET_ID": "j", "CHAIN_ID": "31337"})
    assert "PUBLIC_BASE_URL" in str(err.value)
    with pytest.raises(ValidationError):
        config.AuthConfig.from_env({"AUTH_TABLE": "a", "JWT_SECRET_ID": "j", "CHAIN_ID": "x",
                                    "PUBLIC_BASE_URL": "http://h"})
    with pytest.raises(ValidationError):
        config.OpenApiConfig.from_env({"PUBLIC_BASE_URL": "not a url"})


def test_siwe_domain_is_the_public_url_authority():
    cfg = config.OpenApiConfig.from_env({"PUBLIC_BASE_URL": "https://api.example.com:8443/prod/"})
    assert cfg.siwe_domain == "api.example.com:8443" and cfg.public_base_url == "https://api.example.com:8443/prod"
