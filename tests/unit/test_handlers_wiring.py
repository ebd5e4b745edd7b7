"""Handlers: every function in resources.py has one, modules import without the heavy libraries,
every route is declared by its function's kit Api, and GET /openapi.json documents every route."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from marketplace import resources
from marketplace.kit.openapi import document
from marketplace.routes import MODULES, all_apis, api_of

from local.processes import ROOT

pytestmark = pytest.mark.unit

FLOW1 = ("auth", "authorizer", "content_api", "registration_worker", "openapi")


@pytest.mark.parametrize("handler", FLOW1)
def test_handler_module_imports_without_boto3_web3_or_the_prover(handler):
    code = (
        "import importlib.util, sys, json\n"
        f"sys.path.insert(0, {str(ROOT / 'functions' / handler)!r})\n"
        f"spec = importlib.util.spec_from_file_location('h', {str(ROOT / 'functions' / handler / 'handler.py')!r})\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        "assert callable(m.handler)\n"
        "print(json.dumps(sorted({n.split('.')[0] for n in sys.modules})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    loaded = set(json.loads(out.stdout))
    assert not loaded & {"boto3", "web3", "groth16py", "wasmtime", "eth_account"}  # (powertools imports botocore's top package)


def test_every_flow1_function_has_a_handler():
    for spec in resources.FUNCTIONS:
        if spec.handler in FLOW1:
            assert (ROOT / "functions" / spec.handler / "handler.py").is_file()


def test_each_function_declares_exactly_its_resources_routes():
    with_routes = {spec.name for spec in resources.FUNCTIONS if spec.routes} - {resources.METHOD_NOT_ALLOWED}
    assert set(MODULES) == with_routes
    for name in with_routes:
        spec = resources.by_name(resources.FUNCTIONS, name)
        assert set(api_of(name).declared) == {(r.method, r.path) for r in spec.routes}, name


def test_openapi_documents_every_route_and_resolves_its_refs():
    doc = document(all_apis(), "https://api.example.com")
    for spec in resources.FUNCTIONS:
        for route in spec.routes:
            if route.method == "ANY":  # the 405 fallback: not an operation
                continue
            op = doc["paths"][route.path][route.method.lower()]
            assert "responses" in op
            if route.auth == "jwt":
                assert op["security"] == [{"bearerAuth": []}] and "401" in op["responses"]
    text = json.dumps(doc)
    for ref in set(__import__("re").findall(r'"#/components/schemas/(\w+)"', text)):
        assert ref in doc["components"]["schemas"], ref
    register = doc["paths"]["/content/register"]["post"]
    assert set(register["requestBody"]["content"]) == {"multipart/form-data", "application/json"}
    assert {"201", "202", "409", "413"} <= set(register["responses"])


def test_every_path_answers_undeclared_methods_with_405_and_allow():
    from local.lambdas import LambdaContext, load_handler

    fallback = resources.by_name(resources.FUNCTIONS, resources.METHOD_NOT_ALLOWED)
    paths = {r.path for f in resources.FUNCTIONS for r in f.routes if r.method != "ANY"}
    assert {r.path for r in fallback.routes} == paths and {r.method for r in fallback.routes} == {"ANY"}
    handler = load_handler("method_not_allowed")
    out = handler({"resource": "/license/{licenseId}/keys", "httpMethod": "PUT", "requestContext": {}},
                  LambdaContext(resources.METHOD_NOT_ALLOWED))
    assert out["statusCode"] == 405 and out["headers"]["Allow"] == "DELETE, POST"
    assert json.loads(out["body"])["error"] == "METHOD_NOT_ALLOWED"
