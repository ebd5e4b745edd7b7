"""SSRF safety of webhook POSTs (``notifications.egress``): refused schemes and addresses (no
request leaves), pinning to the checked address, no redirects, the timeout and the response cap."""

from __future__ import annotations

import pytest
from marketplace.notifications import egress
from marketplace.notifications.egress import Policy, UnsafeDestination

from tests.support.webhook_receiver import Receiver

pytestmark = pytest.mark.unit

PUBLIC = Policy()
LOCAL = Policy(allow_loopback=True)


def resolving_to(*addresses: str):
    calls: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return list(addresses)

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


@pytest.mark.parametrize("address, why", [
    ("127.0.0.1", "loopback"), ("127.8.9.10", "loopback"), ("::1", "loopback"),
    ("10.1.2.3", "private"), ("172.16.0.9", "private"), ("192.168.1.1", "private"), ("fc00::5", "private"),
    ("169.254.169.254", "metadata"), ("fd00:ec2::254", "metadata"), ("169.254.3.4", "link-local"),
    ("fe80::1", "link-local"), ("224.0.0.1", "multicast"), ("ff02::1", "multicast"), ("240.0.0.1", "reserved"),
    ("0.0.0.0", "unspecified"), ("100.64.0.1", "public"), ("::ffff:10.0.0.1", "private"),
    ("::ffff:169.254.169.254", "metadata"), ("2002:a9fe:a9fe::1", "metadata"), ("64:ff9b::a00:1", "private"),
])
def test_a_host_resolving_to_a_non_public_address_is_refused(address, why):
    with pytest.raises(UnsafeDestination, match=why):
        egress.check("https://hooks.example.com/x", PUBLIC, resolving_to(address))


def test_every_resolved_address_is_checked_not_only_the_first():
    with pytest.raises(UnsafeDestination, match="private"):
        egress.check("https://hooks.example.com/", PUBLIC, resolving_to("93.184.216.34", "10.0.0.7"))


def test_a_public_address_passes_and_is_the_one_pinned():
    resolve = resolving_to("93.184.216.34")
    target = egress.check("https://hooks.example.com:8443/in?a=1", PUBLIC, resolve)
    assert (target.host, target.port, target.path, target.address) == ("hooks.example.com", 8443, "/in?a=1",
                                                                       "93.184.216.34")
    assert resolve.calls == ["hooks.example.com"]


@pytest.mark.parametrize("url", ["http://hooks.example.com/", "ftp://hooks.example.com/", "https:///nohost",
                                 "https://user:pw@hooks.example.com/", "https://hooks.example.com:99999/"])
def test_https_only_and_well_formed_outside_local(url):
    with pytest.raises(UnsafeDestination):
        egress.check(url, PUBLIC, resolving_to("93.184.216.34"))


def test_a_literal_address_is_checked_as_is():
    for url in ("https://127.0.0.1/", "https://[::1]/", "https://169.254.169.254/latest/meta-data/",
                "https://10.0.0.1/"):
        with pytest.raises(UnsafeDestination):
            egress.check(url, PUBLIC, resolving_to("93.184.216.34"))


def test_the_local_setting_admits_loopback_and_http_only():
    assert egress.check("http://127.0.0.1:9/x", LOCAL).address == "127.0.0.1"
    assert egress.check("http://[::1]:9/x", LOCAL).address == "::1"
    for address in ("10.0.0.1", "169.254.169.254", "fd00:ec2::254", "192.168.0.1"):
        with pytest.raises(UnsafeDestination):
            egress.check("http://hook.local/", LOCAL, resolving_to(address))


def test_no_request_leaves_for_a_refused_address():
    with Receiver() as receiver:
        # a name that resolves to 127.0.0.1 (where the receiver listens), without the local setting
        out = egress.post(f"https://hook.example.com:{receiver.port}/hook", b"{}", {}, PUBLIC,
                          resolving_to("127.0.0.1"))
        plain = egress.post(receiver.url, b"{}", {}, PUBLIC)
    assert out.status is None and "loopback" in (out.error or "") and not out.ok
    assert plain.status is None and "https" in (plain.error or "")
    assert receiver.received == []


def test_the_connection_goes_to_the_checked_address_with_the_host_kept():
    with Receiver() as receiver:
        resolve = resolving_to("127.0.0.1")
        out = egress.post(f"http://hooks.example.test:{receiver.port}/in", b'{"a":1}',
                          {"webhook-id": "m1"}, LOCAL, resolve)
    assert out.ok and out.status == 204
    assert resolve.calls == ["hooks.example.test"]  # resolved once, never again
    got = receiver.received[0]
    assert got.headers["host"] == f"hooks.example.test:{receiver.port}" and got.body == b'{"a":1}'
    assert got.headers["webhook-id"] == "m1"


def test_a_redirect_is_an_answer_not_followed():
    with Receiver() as target, Receiver(statuses=[302]) as redirecting:
        redirecting.location = target.url
        out = egress.post(redirecting.url, b"{}", {}, LOCAL)
    assert out.status == 302 and not out.ok
    assert len(redirecting.received) == 1 and target.received == []


def test_a_slow_receiver_times_out():
    with Receiver(delay=2.0) as receiver:
        out = egress.post(receiver.url, b"{}", {}, Policy(allow_loopback=True, timeout=0.5))
    assert out.status is None and "timeout" in (out.error or "") and out.duration_ms < 1900


def test_the_answer_is_read_up_to_the_cap():
    with Receiver(statuses=[200], answer=b"x" * (1024 * 1024)) as receiver:
        out = egress.post(receiver.url, b"{}", {}, LOCAL)
    assert out.ok and len(out.body) == egress.MAX_RESPONSE_BYTES


def test_a_closed_port_is_a_connection_error():
    with Receiver() as receiver:
        port = receiver.port
    out = egress.post(f"http://127.0.0.1:{port}/", b"{}", {}, LOCAL)
    assert out.status is None and "connection error" in (out.error or "")


def test_a_host_name_that_cannot_be_encoded_is_refused_not_a_crash():
    from marketplace.notifications.egress import UnsafeDestination, system_resolver

    with pytest.raises(UnsafeDestination, match="not a valid host name"):
        system_resolver("a" * 300 + ".example", 443)
