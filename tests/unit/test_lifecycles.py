"""The lifecycle tables: every allowed move, every illegal one (a typed 409), and the DynamoDB
conditions built from them."""

from __future__ import annotations

import itertools

import pytest
from marketplace.content.models import (
    CONTENT_LIFECYCLE,
    REGISTRATION_LIFECYCLE,
    ContentState,
    RegistrationState,
)
from marketplace.errors import ConflictError
from marketplace.licensing.adapters import license_in
from marketplace.licensing.models import (
    LICENSE_LIFECYCLE,
    QUOTE_LIFECYCLE,
    USABLE,
    LicenseState,
    QuoteState,
    license_state,
)
from marketplace.payments.models import PAYMENT_LIFECYCLE, Payment, PaymentState
from marketplace.shared.lifecycle import IllegalTransition, state_in
from marketplace.usage.models import BATCH_LIFECYCLE, BatchState

pytestmark = pytest.mark.unit

C, L, P, Q, R = ContentState, LicenseState, PaymentState, QuoteState, RegistrationState

# The spec's diagrams, written out independently of the modules' tables
ALLOWED = {
    CONTENT_LIFECYCLE: {(C.CREATED, C.REGISTERED), (C.REGISTERED, C.LICENSED), (C.LICENSED, C.ACTIVE),
                        (C.ACTIVE, C.ARCHIVED), (C.REGISTERED, C.ARCHIVED), (C.LICENSED, C.ARCHIVED)},
    LICENSE_LIFECYCLE: {(L.AVAILABLE, L.PURCHASED), *((a, b) for a in (L.PURCHASED, L.IN_USE)
                                                      for b in (L.IN_USE, L.EXHAUSTED, L.EXPIRED, L.REVOKED)),
                        (L.EXHAUSTED, L.REVOKED), (L.EXPIRED, L.REVOKED)},
    PAYMENT_LIFECYCLE: {(P.PENDING, P.PROCESSING), (P.PROCESSING, P.COMPLETED), (P.COMPLETED, P.WITHDRAWN),
                        (P.PROCESSING, P.FAILED), (P.FAILED, P.PROCESSING)},
    QUOTE_LIFECYCLE: {(Q.OPEN, Q.SENDING), (Q.SENDING, Q.SENDING), (Q.OPEN, Q.REDEEMED), (Q.SENDING, Q.REDEEMED)},
    REGISTRATION_LIFECYCLE: {(R.AWAITING_UPLOAD, R.PENDING), (R.PENDING, R.REGISTERED), (R.PENDING, R.FAILED)},
    BATCH_LIFECYCLE: {(BatchState.PENDING, BatchState.PROVEN)},
}
MOVES = [(lc, a, b, (a, b) in allowed) for lc, allowed in ALLOWED.items()
         for a, b in itertools.product(lc.states, repeat=2)]


@pytest.mark.parametrize("lifecycle, current, target, allowed", MOVES,
                         ids=[f"{lc.name}:{a}->{b}" for lc, a, b, _ in MOVES])
def test_every_move_is_allowed_or_a_typed_conflict(lifecycle, current, target, allowed):
    assert lifecycle.can_transition(current, target) is allowed
    if allowed:
        assert lifecycle.transition(current, target) is target
    else:
        with pytest.raises(IllegalTransition) as err:
            lifecycle.transition(current, target, id="x")
        assert isinstance(err.value, ConflictError) and err.value.status == 409
        assert err.value.details == {"lifecycle": lifecycle.name, "from": str(current), "to": str(target), "id": "x"}


@pytest.mark.parametrize("lifecycle, initial", [(CONTENT_LIFECYCLE, {C.CREATED}), (LICENSE_LIFECYCLE, {L.AVAILABLE}),
                                                (PAYMENT_LIFECYCLE, {P.PENDING}), (QUOTE_LIFECYCLE, {Q.OPEN}),
                                                (REGISTRATION_LIFECYCLE, {R.AWAITING_UPLOAD, R.PENDING})])
def test_only_initial_states_start_a_record(lifecycle, initial):
    for state in lifecycle.states:
        assert lifecycle.can_transition(None, state) is (state in initial)
    with pytest.raises(IllegalTransition):
        lifecycle.transition(None, "NOT_A_STATE")


def test_terminal_states_and_sources():
    assert CONTENT_LIFECYCLE.terminal() == (C.ARCHIVED,)
    assert LICENSE_LIFECYCLE.terminal() == (L.REVOKED,)
    assert PAYMENT_LIFECYCLE.terminal() == (P.WITHDRAWN,)
    assert CONTENT_LIFECYCLE.sources(C.ACTIVE) == (C.LICENSED,)
    assert QUOTE_LIFECYCLE.sources(Q.REDEEMED) == (Q.OPEN, Q.SENDING)
    assert USABLE == (L.PURCHASED, L.IN_USE)


def test_state_conditions_come_from_the_table():
    assert state_in(CONTENT_LIFECYCLE.sources(C.LICENSED)) == ("#st = :st0", {":st0": "REGISTERED"})
    assert state_in(QUOTE_LIFECYCLE.sources(Q.SENDING)) == ("#st IN (:st0, :st1)", {":st0": "OPEN", ":st1": "SENDING"})
    assert license_in(USABLE) == ("attribute_not_exists(revokedAt) AND usesGranted < maxUses AND validUntil > :now")
    assert license_in(LICENSE_LIFECYCLE.sources(L.REVOKED)) == "attribute_not_exists(revokedAt)"
    with pytest.raises(ValueError):  # EXPIRED cannot be tested apart from the states before it
        license_in((L.PURCHASED, L.IN_USE, L.EXHAUSTED, L.REVOKED))


@pytest.mark.parametrize("lic, now, state", [
    ({"usesGranted": 0, "maxUses": 2, "validUntil": 10}, 5, L.PURCHASED),
    ({"usesGranted": 1, "maxUses": 2, "validUntil": 10}, 5, L.IN_USE),
    ({"usesGranted": 1, "maxUses": 2, "validUntil": 10}, 10, L.EXPIRED),
    ({"usesGranted": 2, "maxUses": 2, "validUntil": 10}, 10, L.EXHAUSTED),
    ({"usesGranted": 2, "maxUses": 2, "validUntil": 10, "revokedAt": 3}, 10, L.REVOKED),
])
def test_license_state_is_derived_with_the_contracts_precedence(lic, now, state):
    assert license_state(lic, now) is state


def test_a_payment_moves_only_along_its_table():
    p = Payment("0x" + "11" * 32, "0x" + "22" * 32, "0xcreator", uses=3, amount=30)
    done = p.moved_to(P.PROCESSING, "0xtx").moved_to(P.COMPLETED)
    assert (done.state, done.tx_hash) == (P.COMPLETED, "0xtx")
    with pytest.raises(IllegalTransition) as err:
        p.moved_to(P.WITHDRAWN)
    assert err.value.details["batchId"] == p.batch_id
