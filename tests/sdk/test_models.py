"""The SDK's models are the API's: ``sdk/zkdm/models.py`` is exactly what datamodel-code-generator
makes of the OpenAPI document generated from the route declarations (what GET /openapi.json
serves). A route or schema change without regenerating fails here."""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "sdk" / "tools"))

import generate_models

pytestmark = pytest.mark.sdk


def test_the_sdk_models_are_generated_from_the_current_openapi_document():
    fresh = generate_models.generate(generate_models.api_document())
    kept = generate_models.OUTPUT.read_text()
    if fresh != kept:
        diff = "".join(list(difflib.unified_diff(kept.splitlines(True), fresh.splitlines(True), "kept", "fresh"))[:80])
        pytest.fail("sdk/zkdm/models.py differs from the OpenAPI document: run "
                    "`uv run --frozen python sdk/tools/generate_models.py` and review the SDK calls\n" + diff)


def test_every_response_model_of_the_document_is_in_the_sdk():
    from zkdm import models

    doc = generate_models.api_document()
    refs = {r["$ref"].rsplit("/", 1)[1] for path in doc["paths"].values() for op in path.values()
            for resp in op["responses"].values() for media in resp.get("content", {}).values()
            for r in [media["schema"]] if "$ref" in r}
    assert refs and all(hasattr(models, name) for name in refs), sorted(n for n in refs if not hasattr(models, n))


def test_the_generated_models_read_what_the_server_models_write():
    """A server answer dumped as the kit does (JSON, no None) validates as the SDK's model."""
    from marketplace.content.schemas import MultipartUploadResponse, PartUrl, UploadResponse
    from marketplace.licensing.schemas import TermsView
    from zkdm import models

    multipart = MultipartUploadResponse(uploadId="u", size=10, partSize=5, partCount=2, expiresAt=1,
                                        parts=[PartUrl(partNumber=1, url="https://s3/p1", size=5)])
    answer = models.UploadAnswer.model_validate(multipart.model_dump(mode="json", exclude_none=True)).root
    assert isinstance(answer, models.MultipartUploadResponse) and answer.parts[0].url == "https://s3/p1"
    post = UploadResponse(uploadId="u", url="https://s3", fields={"key": "k"}, expiresAt=1)
    assert isinstance(models.UploadAnswer.model_validate(post.model_dump(mode="json")).root, models.UploadResponse)
    terms = TermsView(termsId="0x1", contentId="0x2", type="per_use", pricePerUse=1, maxUses=2, durationSeconds=0,
                      amount=2, active=True)
    assert models.TermsView.model_validate(terms.model_dump(mode="json", exclude_none=True)).amount == 2
