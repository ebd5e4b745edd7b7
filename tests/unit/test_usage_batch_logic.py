"""The batch prover's decisions (marketplace.usage.batches): gaps, the window, the signatures a
batch sends; the state machine's step models; the signed-access primitives against eth-account."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from marketplace.usage import access_signature as sig
from marketplace.usage import client_signing
from marketplace.usage.batch_models import Batch, FailedIn, Proved
from marketplace.usage.batches import (
    SignatureMismatch,
    choose_window,
    latest_accesses,
    prefix_within,
    select_events,
)
from marketplace.usage.models import BatchState, SignedAccess, UsageEvent
from pydantic import ValidationError

pytestmark = pytest.mark.unit

LID = "0x" + "11" * 32
A, B = "0x" + "aa" * 20, "0x" + "bb" * 20


def ev(seq: int, ts: int, signer: str = A, counter: int | None = None, batch=BatchState.PENDING) -> UsageEvent:
    return UsageEvent(LID, seq, ts, "0x" + "cc" * 32, "/e", "POST", "1.2.3.4", f"r{seq}", seq + 1, batch,
                      SignedAccess(signer, counter if counter is not None else seq + 1, "0x" + "00" * 32,
                                   "0x" + "11" * 65))


class TestGaps:
    def test_contiguous_events_form_the_batch_up_to_64(self):
        events = [ev(s, 1000 + s) for s in range(70)]
        sel = select_events(events, 0, now=2000, gap_seconds=300)
        assert [e.seq for e in sel.events] == list(range(64)) and sel.next_cursor == 64 and sel.skipped == []

    def test_a_young_gap_stops_the_batch_before_it(self):
        events = [ev(0, 1000), ev(1, 1001), ev(3, 1990)]  # seq 2 missing; seq 3 recorded 10 s ago
        sel = select_events(events, 0, now=2000, gap_seconds=300)
        assert [e.seq for e in sel.events] == [0, 1] and sel.waiting_gap == 2 and sel.next_cursor == 2

    def test_an_old_gap_is_skipped(self):
        events = [ev(0, 1000), ev(1, 1001), ev(3, 1002), ev(4, 1003)]
        sel = select_events(events, 0, now=2000, gap_seconds=300)
        assert [e.seq for e in sel.events] == [0, 1, 3, 4] and sel.skipped == [2] and sel.next_cursor == 5

    def test_a_trailing_gap_waits_for_a_later_event(self):
        sel = select_events([ev(0, 1000)], 0, now=9999, gap_seconds=300)
        assert [e.seq for e in sel.events] == [0] and sel.next_cursor == 1

    def test_the_cursor_skips_what_is_behind_it_and_proven_events_are_not_taken(self):
        events = [ev(5, 1000, batch=BatchState.PROVEN), ev(6, 1001)]
        sel = select_events(events, 5, now=2000, gap_seconds=300)
        assert [e.seq for e in sel.events] == [6] and sel.next_cursor == 7

    def test_nothing_pending(self):
        sel = select_events([], 3, now=2000, gap_seconds=300)
        assert sel.events == [] and sel.next_cursor == 3 and sel.waiting_gap is None


class TestWindow:
    def test_ends_at_the_block_time_and_is_at_least_min_window_wide(self):
        assert choose_window([5000, 5100], valid_from=1000, valid_until=10**9, block_time=9000,
                             min_window=3600) == (5000, 9000)
        # events close to the block time: the start moves back to keep the minimum width
        assert choose_window([8800, 8900], valid_from=1000, valid_until=10**9, block_time=9000,
                             min_window=3600) == (5400, 9000)

    def test_not_before_the_license_is_min_window_old(self):
        assert choose_window([1100], valid_from=1000, valid_until=10**9, block_time=1000 + 3599,
                             min_window=3600) is None
        assert choose_window([1100], valid_from=1000, valid_until=10**9, block_time=1000 + 3600,
                             min_window=3600) == (1000, 4600)

    def test_a_short_license_uses_its_whole_validity_and_ends_at_its_end(self):
        assert choose_window([1010], valid_from=1000, valid_until=1040, block_time=1030, min_window=900) is None
        assert choose_window([1010, 1020], valid_from=1000, valid_until=1040, block_time=5000,
                             min_window=900) == (1000, 1040)

    def test_events_after_the_window_wait_for_the_next_batch(self):
        events = [ev(0, 100), ev(1, 200), ev(2, 300), ev(3, 150)]
        assert [e.seq for e in prefix_within(events, 250)] == [0, 1]  # stops at the first late one


class TestSignatures:
    def test_one_signature_per_signer_its_highest_counter(self):
        events = [ev(0, 1, A, 4), ev(1, 2, B, 1), ev(2, 3, A, 5), ev(3, 4, A, 6)]
        out = latest_accesses(events, {A: 3, B: 0})
        assert [(a.signer, a.counter) for a in out] == [(A, 6), (B, 1)]

    def test_a_batch_whose_signatures_would_not_cover_it_is_refused(self):
        events = [ev(0, 1, A, 4), ev(1, 2, A, 5)]
        with pytest.raises(SignatureMismatch):
            latest_accesses(events, {A: 2})  # counter 5 over 2 covers 3 uses, the batch has 2
        with pytest.raises(SignatureMismatch):
            latest_accesses([UsageEvent(LID, 0, 1, "c", "/e", "POST", "ip", "r", 1)], {})


class TestStepModels:
    def test_a_proved_batch_has_eight_proof_elements_and_forbids_extras(self):
        base = Batch(licenseId=LID, startIndex=0, count=1, seqs=[0]).model_dump()
        Proved(**base, chainNew="1", proof=[str(i) for i in range(8)])
        with pytest.raises(ValidationError):
            Proved(**base, chainNew="1", proof=["1"] * 7)
        with pytest.raises(ValidationError):
            Batch(licenseId=LID, surprise=1)
        with pytest.raises(ValidationError):
            Batch(licenseId="0x12")

    def test_failed_takes_any_state_and_finds_the_lock(self):
        state = {**Batch(licenseId=LID, lock=LID).model_dump(), "error": {"Error": "ProofGenerationError"}}
        f = FailedIn.model_validate(state)
        assert f.lock == LID and f.error["Error"] == "ProofGenerationError"

    def test_the_asl_names_only_steps_the_worker_has(self):
        import sys

        root = Path(__file__).parents[2]
        text = (root / "statemachines" / "usage-batches.asl.json").read_text()
        steps = set()

        def walk(node):
            if isinstance(node, dict):
                if "step" in node and isinstance(node["step"], str):
                    steps.add(node["step"])
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)

        walk(json.loads(text))
        sys.path.insert(0, str(root / "functions" / "usage_batch_worker"))
        try:
            from local.lambdas import load_handler

            load_handler("usage_batch_worker")
            module = sys.modules["lambda_usage_batch_worker_handler"]
        finally:
            sys.path.pop(0)
        assert steps == {"licenses", "prepare", "prove", "submit", "confirm", "mark", "failed"}
        assert module is not None


class TestSignedAccessPrimitives:
    def test_digest_and_recovery_agree_with_eth_account(self):
        from eth_account import Account
        from eth_account.messages import encode_typed_data

        manager = "0x" + "4d" * 20
        key = client_signing.new_worker_key()
        data = {"types": {"EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                                           {"name": "chainId", "type": "uint256"},
                                           {"name": "verifyingContract", "type": "address"}],
                          "AccessRequest": [{"name": "licenseId", "type": "bytes32"},
                                            {"name": "counter", "type": "uint64"},
                                            {"name": "requestHash", "type": "bytes32"}]},
                "primaryType": "AccessRequest",
                "domain": {"name": "LicenseManager", "version": "1", "chainId": 31337, "verifyingContract": manager},
                "message": {"licenseId": LID, "counter": 7, "requestHash": "0x" + "22" * 32}}
        signed = Account.from_key(key.private_key).sign_message(encode_typed_data(full_message=data))
        digest = sig.access_digest(sig.domain_separator(31337, manager), LID, 7, "0x" + "22" * 32)
        assert digest == bytes(signed.message_hash)
        assert sig.recover(digest, bytes(signed.signature)) == key.address == Account.from_key(key.private_key).address.lower()
        # ours signs what eth-account recovers
        ours = bytes.fromhex(client_signing.sign_access(key, LID, 7, "0x" + "22" * 32, 31337, manager)[2:])
        assert Account._recover_hash(digest, signature=ours).lower() == key.address
        r, vs = sig.compact(ours)
        assert sig.recover(digest, r + vs) == key.address

    def test_unusable_signatures_recover_nobody(self):
        digest = b"\x01" * 32
        assert sig.recover(digest, b"\x00" * 65) is None
        assert sig.recover(digest, b"\x01" * 63) is None
        assert sig.split(b"\x01" * 64 + b"\x1d") is None  # v 29
