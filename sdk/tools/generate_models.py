"""Generate ``zkdm/models.py`` from the API's OpenAPI document with datamodel-code-generator.

The document is built from the route declarations (``marketplace.kit.openapi.document``), exactly
what ``GET /openapi.json`` serves, so the SDK's models are the API's; ``tests/sdk`` regenerates
and fails on any difference. Run from the repository root after changing a route or a schema::

    uv run --frozen python sdk/tools/generate_models.py

The generator is a development tool only (the root project's dev group): the zkdm package ships
the generated module and needs nothing of it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

SDK = Path(__file__).resolve().parents[1]
ROOT = SDK.parent
OUTPUT = SDK / "zkdm" / "models.py"
HEADER = ('"""The API\'s request and response models, generated from its OpenAPI document by\n'
          'datamodel-code-generator (sdk/tools/generate_models.py). Do not edit: regenerate."""')
OPTIONS = ["--input-file-type", "openapi", "--output-model-type", "pydantic_v2.BaseModel",
           "--target-python-version", "3.11", "--use-annotated", "--field-constraints",
           "--use-standard-collections", "--use-union-operator", "--use-schema-description",
           "--use-field-description", "--disable-timestamp", "--formatters", "black", "isort",
           "--custom-file-header", HEADER]


def api_document() -> dict:
    """The OpenAPI document of every route (the server URL is irrelevant to the models)."""
    sys.path.insert(0, str(ROOT / "layers" / "shared" / "python"))
    from marketplace.kit.openapi import document
    from marketplace.routes import all_apis

    return document(all_apis(), "http://127.0.0.1")


def generate(doc: dict) -> str:
    """The models module datamodel-code-generator makes of ``doc``."""
    with tempfile.TemporaryDirectory() as tmp:
        source, out = Path(tmp) / "openapi.json", Path(tmp) / "models.py"
        source.write_text(json.dumps(doc, indent=1, sort_keys=True))
        result = subprocess.run([sys.executable, "-m", "datamodel_code_generator", "--input", str(source),
                                 "--output", str(out), *OPTIONS], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"datamodel-codegen failed ({result.returncode}):\n{result.stderr}")
        return out.read_text()


def main() -> None:
    OUTPUT.write_text(generate(api_document()))
    print(f"wrote {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
