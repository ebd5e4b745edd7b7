"""The CLI without a server: exit codes that mean something, errors said plainly (the API's code,
message and supportId), usage errors, a missing key."""

from __future__ import annotations

import json
import socket

import pytest
from zkdm import ApiError, KeyUnavailable, TransferError
from zkdm.cli import EXIT_CODES, exit_code, main, report

pytestmark = pytest.mark.sdk


@pytest.mark.parametrize(("status", "code"), [(401, 3), (403, 3), (404, 4), (409, 5), (422, 5), (400, 5),
                                              (402, 6), (429, 7), (503, 7), (500, 1), (None, 5)])
def test_api_statuses_map_to_documented_exit_codes(status, code):
    assert exit_code(ApiError(status, "X", "m")) == code
    assert code in EXIT_CODES


def test_client_side_errors_have_their_codes():
    assert exit_code(KeyUnavailable("no key")) == 3
    assert exit_code(TransferError("bad md5")) == 8
    assert exit_code(RuntimeError("boom")) == 1


def test_errors_carry_the_support_id(capsys):
    err = ApiError.from_body(503, {"error": "BLOCKCHAIN_ERROR", "message": "Transaction failed: X",
                                   "details": {"contract": "LicenseManager"}, "supportId": "sup-123"}, "POST", "/x")
    assert err.support_id == "sup-123" and "sup-123" in str(err)
    report(err, json_output=False)
    text = capsys.readouterr().err
    assert "BLOCKCHAIN_ERROR" in text and "sup-123" in text and "LicenseManager" in text
    report(err, json_output=True)
    assert json.loads(capsys.readouterr().err)["supportId"] == "sup-123"
    plain = ApiError.from_body(502, "<html>bad gateway</html>")
    assert plain.code == "HTTP_502" and "bad gateway" in plain.message


def test_usage_missing_key_and_unreachable_api(monkeypatch, capsys, tmp_path):
    monkeypatch.delenv("ZKDM_PRIVATE_KEY", raising=False)
    monkeypatch.setenv("ZKDM_HOME", str(tmp_path))
    assert main(["no-such-command"]) == 2
    assert main(["terms", "create", "0x01"]) == 2  # --price and --max-uses are required
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert main(["--api", f"http://127.0.0.1:{port}", "login"]) == 3  # no key: nothing sent
    capsys.readouterr()
    assert main(["--api", f"http://127.0.0.1:{port}", "--json", "content", "0x" + "00" * 32]) == 1
    assert json.loads(capsys.readouterr().err)["error"] == "ConnectError"
    assert main(["--help"]) == 0
