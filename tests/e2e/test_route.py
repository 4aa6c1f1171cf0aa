"""`evmaild --route DOMAIN` against a private DNS world (dnsenv.py): MX
order, implicit and null MX, NXDOMAIN, DNSSEC bogus answers, DANE on a
signed zone and not on an unsigned one, MTA-STS enforce/testing, relay and
transport routes from the configuration."""

import json
import subprocess

import pytest

from conftest import EVMAILD, clean_env
from dnsenv import DnsEnv, tlsa_rdata

SMTP_PORT = 2525        # only names the TLSA records; nothing connects
ROUTE_TIMEOUT = 90      # seconds for one evmaild --route (DNS bounded at 30 s)


@pytest.fixture(scope="module")
def world(tmp_path_factory, binaries):
    env = DnsEnv(tmp_path_factory.mktemp("dnsworld"))
    cert, _ = env.issue_cert("mx1.sec.example")
    # Signed, DANE on mx1 (DANE-EE), nothing on mx2, unusable TLSA on mx3.
    sec = env.mail_domain("sec.example", mx=[(10, "mx1")], tlsa_cert=cert, smtp_port=SMTP_PORT)
    env.mail_domain("sec.example", mx=[(20, "mx2"), (30, "mx3")])
    sec.add(f"_{SMTP_PORT}._tcp.mx3", "TLSA", "1 1 1 " + "ab" * 32)
    # Unsigned, with a TLSA record that must be ignored.
    plain = env.mail_domain("plain.example", signed=False, mx=[(10, "mx1")])
    plain.tlsa("mx1", SMTP_PORT, cert)
    env.mail_domain("bogus.example", bogus=True, mx=[(10, "mx1")])
    env.mail_domain("order.example", signed=False,
                    mx=[(30, "c"), (10, "a"), (20, "b"), (20, "b2")])
    env.zone("implicit.example", signed=False).add("@", "A", "127.0.0.1")
    env.zone("nullmx.example").add("@", "MX", "0 .")
    # A signed domain whose first MX lives in the bogus zone.
    env.mail_domain("mixed.example", mx=[(10, "mx1.bogus.example."), (20, "mx1.sec.example.")])
    # MTA-STS: enforce, testing, no matching MX, policy not served, DANE + STS.
    env.mail_domain("sts.example", signed=False,
                    mx=[(10, "mx1"), (20, "mx1.plain.example.")])
    env.mta_sts("sts.example", mode="enforce", mx=["*.sts.example"], id="20240101")
    env.mail_domain("ststest.example", signed=False, mx=[(10, "mx1"), (20, "mx1.plain.example.")])
    env.mta_sts("ststest.example", mode="testing", mx=["mx1.ststest.example"])
    env.mail_domain("stsnone.example", signed=False, mx=[(10, "mx1")])
    env.mta_sts("stsnone.example", mode="enforce", mx=["mail.elsewhere.example"])
    env.mail_domain("stsgone.example", signed=False, mx=[(10, "mx1")])
    env.mta_sts("stsgone.example", mode="enforce", mx=["mx9.stsgone.example"])
    env.set_policy_text("stsgone.example", None)         # TXT published, policy 404
    # Policies that must not be taken: a redirect, the wrong media type, > 64 KiB.
    for name, status, ctype, body in (
            ("stsredir", 301, "text/plain", "version: STSv1\nmode: enforce\nmx: x.y\nmax_age: 60\n"),
            ("ststype", 200, "text/html", "version: STSv1\nmode: enforce\nmx: x.y\nmax_age: 60\n"),
            ("stsbig", 200, "text/plain",
             "version: STSv1\nmode: enforce\nmx: x.y\nmax_age: 60\n" + "x: y\n" * 20000)):
        env.mail_domain(f"{name}.example", signed=False, mx=[(10, "mx1")])
        env.mta_sts(f"{name}.example", mode="enforce", mx=["x.y"])
        env.set_policy_text(f"{name}.example", body, status=status, ctype=ctype)
    both_cert, _ = env.issue_cert("mx1.both.example")
    env.mail_domain("both.example", mx=[(10, "mx1"), (20, "mx2")], tlsa_cert=both_cert,
                    smtp_port=SMTP_PORT)
    env.zone("both.example").remove(f"_{SMTP_PORT}._tcp.mx2")
    env.mta_sts("both.example", mode="enforce", mx=["*.both.example"])
    settings = env.start()
    env.settings = {**settings, "EVMAIL_DELIVERY_SMTP_PORT": str(SMTP_PORT)}
    env.sec_cert = cert
    yield env
    env.stop()


def route(world, domain, **extra):
    """(exit code, parsed JSON) of evmaild --route domain."""
    env = clean_env(**{**world.settings, **extra})
    p = subprocess.run([str(EVMAILD), "--route", domain], env=env, capture_output=True,
                       text=True, timeout=ROUTE_TIMEOUT)
    try:
        out = json.loads(p.stdout)
    except ValueError:
        pytest.fail(f"not JSON (exit {p.returncode}):\n{p.stdout}\nstderr: {p.stderr}\n"
                    f"nsd: {world.nsd_log()}")
    return p.returncode, out


def names(out):
    return [h["name"] for h in out["hosts"]]


def test_mx_order(world):
    rc, out = route(world, "order.example")
    assert rc == 0, out
    assert out["status"] == "ok" and out["kind"] == "mx"
    got = names(out)
    assert got[0] == "a.order.example" and got[3] == "c.order.example", out
    assert set(got[1:3]) == {"b.order.example", "b2.order.example"}, out
    assert [h["preference"] for h in out["hosts"]] == [10, 20, 20, 30]
    for h in out["hosts"]:
        assert h["addresses"] == ["127.0.0.1"] and h["port"] == SMTP_PORT
        assert h["tls"] == "may"


def test_implicit_mx(world):
    rc, out = route(world, "Implicit.Example.")
    assert rc == 0, out
    assert out["kind"] == "implicit-mx"
    assert names(out) == ["implicit.example"]
    assert out["hosts"][0]["addresses"] == ["127.0.0.1"]


def test_null_mx_is_permanent(world):
    rc, out = route(world, "nullmx.example")
    assert rc == 1
    assert out["status"] == "permanent"
    assert out["error"].startswith("5.1.10 ") and "null MX" in out["error"], out


def test_nxdomain_is_permanent(world):
    rc, out = route(world, "nowhere.plain.example")
    assert rc == 1
    assert out["status"] == "permanent"
    assert out["error"].startswith("5.1.2 ") and "NXDOMAIN" in out["error"], out


def test_bogus_is_temporary_and_says_why(world):
    rc, out = route(world, "bogus.example")
    assert rc == 1
    assert out["status"] == "temporary"
    assert out["error"].startswith("4.") and "dnssec: bogus MX for bogus.example" in out["error"], out
    assert out["hosts"] == []


def test_bogus_host_is_skipped_not_used(world):
    rc, out = route(world, "mixed.example")
    assert rc == 0, out
    assert out["mx_secure"] is True
    bad, good = out["hosts"]
    assert bad["name"] == "mx1.bogus.example" and bad["addresses"] == []
    assert "dnssec: bogus A" in bad["error"] or "dnssec: bogus AAAA" in bad["error"], bad
    assert good["name"] == "mx1.sec.example" and good["tls"] == "dane"


def test_dane_on_signed_zone(world):
    rc, out = route(world, "sec.example")
    assert rc == 0, out
    assert out["mx_secure"] is True
    assert out["policy"] == "dane"
    mx1, mx2, mx3 = out["hosts"]
    assert mx1["name"] == "mx1.sec.example" and mx1["tls"] == "dane" and mx1["tlsa"] == 1
    assert mx1["tlsa_records"] == [tlsa_rdata(world.sec_cert, 3, 1, 1)]
    assert mx1["verify_name"] == "mx1.sec.example"
    # A secure denial of TLSA: opportunistic; only unusable records: encrypt.
    assert mx2["tls"] == "may" and mx2["tlsa"] == 0
    assert mx3["tls"] == "encrypt" and mx3["tlsa"] == 0


def test_dane_off_by_configuration(world):
    rc, out = route(world, "sec.example", EVMAIL_DELIVERY_DANE="0")
    assert rc == 0
    assert [h["tls"] for h in out["hosts"]] == ["may", "may", "may"]


def test_no_dane_on_unsigned_zone(world):
    rc, out = route(world, "plain.example")
    assert rc == 0, out
    assert out["mx_secure"] is False
    assert out["hosts"][0]["tls"] == "may" and out["hosts"][0]["tlsa"] == 0
    assert out["policy"] == "none"


def test_no_validation_without_trust_anchor(world):
    rc, out = route(world, "bogus.example", EVMAIL_DNS_TRUST_ANCHOR_FILE="")
    assert rc == 0, out
    assert out["mx_secure"] is False and out["hosts"][0]["tls"] == "may"


def test_mta_sts_enforce(world):
    rc, out = route(world, "sts.example")
    assert rc == 0, out
    assert out["sts_enforce"] is True and out["policy"] == "mta-sts enforce"
    # mx1.plain.example does not match *.sts.example: dropped.
    assert names(out) == ["mx1.sts.example"]
    h = out["hosts"][0]
    assert h["tls"] == "verify" and h["verify_name"] == "mx1.sts.example"
    assert ("sts.example", "/.well-known/mta-sts.txt") in world.sts_requests


def test_mta_sts_off_by_configuration(world):
    rc, out = route(world, "sts.example", EVMAIL_DELIVERY_MTA_STS="0")
    assert rc == 0
    assert names(out) == ["mx1.sts.example", "mx1.plain.example"]
    assert out["sts_enforce"] is False


def test_mta_sts_testing(world):
    rc, out = route(world, "ststest.example")
    assert rc == 0, out
    assert out["sts_testing"] is True and out["sts_enforce"] is False
    assert out["policy"] == "mta-sts testing"
    assert names(out) == ["mx1.ststest.example", "mx1.plain.example"]
    assert [h["tls"] for h in out["hosts"]] == ["may", "may"]


def test_mta_sts_enforce_without_matching_mx_is_temporary(world):
    rc, out = route(world, "stsnone.example")
    assert rc == 1
    assert out["status"] == "temporary"
    assert "mta-sts" in out["error"] and "stsnone.example" in out["error"], out


def test_mta_sts_policy_unavailable_means_no_policy(world):
    rc, out = route(world, "stsgone.example")
    assert rc == 0, out
    assert out["sts_enforce"] is False
    assert names(out) == ["mx1.stsgone.example"] and out["hosts"][0]["tls"] == "may"


@pytest.mark.parametrize("domain", ["stsredir.example", "ststype.example", "stsbig.example"])
def test_mta_sts_bad_fetch_means_no_policy(world, domain):
    rc, out = route(world, domain)
    assert rc == 0, out
    assert out["sts_enforce"] is False and names(out) == [f"mx1.{domain}"]
    assert (domain, "/.well-known/mta-sts.txt") in world.sts_requests


def test_mta_sts_wrong_ca_means_no_policy(world, tmp_path):
    other = DnsEnv(tmp_path / "otherca")          # a CA that did not sign the policy host
    rc, out = route(world, "sts.example", EVMAIL_DELIVERY_TLS_CA_FILE=str(other.ca_cert))
    assert rc == 0, out
    assert out["sts_enforce"] is False
    assert len(out["hosts"]) == 2


def test_dane_wins_over_mta_sts(world):
    rc, out = route(world, "both.example")
    assert rc == 0, out
    assert out["policy"] == "dane, mta-sts enforce"
    mx1, mx2 = out["hosts"]
    assert mx1["tls"] == "dane" and mx1["tlsa"] == 1
    assert mx2["tls"] == "verify" and mx2["verify_name"] == "mx2.both.example"


def test_relay_from_configuration(world):
    rc, out = route(world, "anything.example", EVMAIL_DELIVERY_RELAY="mx1.plain.example:2526",
                    EVMAIL_DELIVERY_RELAY_USER="relayuser")
    assert rc == 0, out
    assert out["kind"] == "relay"
    (h,) = out["hosts"]
    assert h["name"] == "mx1.plain.example" and h["port"] == 2526
    assert h["addresses"] == ["127.0.0.1"]
    assert h["tls"] == "verify" and h["verify_name"] == "mx1.plain.example"
    assert h["auth"] is True
    assert out["policy"] == "relay_tls verify"


def test_transport_route_wins_over_relay(world):
    extra = {"EVMAIL_DELIVERY_RELAY": "mx1.plain.example:2526",
             "EVMAIL_DELIVERY_ROUTES": "order.example=[127.0.0.1]:2527,x.example=mx1.sec.example",
             "EVMAIL_DELIVERY_RELAY_TLS": "may"}
    rc, out = route(world, "order.example", **extra)
    assert rc == 0, out
    assert out["kind"] == "transport"
    (h,) = out["hosts"]
    assert (h["name"], h["port"], h["addresses"], h["tls"], h["auth"]) == \
        ("127.0.0.1", 2527, ["127.0.0.1"], "may", False)
    rc, out = route(world, "x.example", **extra)
    assert rc == 0 and out["kind"] == "transport"
    assert out["hosts"][0]["port"] == SMTP_PORT        # no port: delivery.smtp_port
    rc, out = route(world, "plain.example", **extra)
    assert rc == 0 and out["kind"] == "relay"


def test_relay_host_without_address_is_temporary(world):
    rc, out = route(world, "x.example", EVMAIL_DELIVERY_RELAY="nohost.plain.example")
    assert rc == 1
    assert out["status"] == "temporary" and "nohost.plain.example" in out["error"], out


def test_bad_route_configuration_is_reported(world):
    env = clean_env(**{**world.settings, "EVMAIL_DELIVERY_RELAY_TLS": "sometimes"})
    p = subprocess.run([str(EVMAILD), "--route", "x.example"], env=env, capture_output=True,
                       text=True, timeout=ROUTE_TIMEOUT)
    assert p.returncode == 1
    assert "delivery.relay_tls" in p.stderr


from dnsenv import dns_env  # noqa: E402,F401 - the fixture, as other tests use it


def test_dns_env_fixture_restart_and_aaaa(dns_env, binaries):
    env = dns_env()
    env.mail_domain("v6.example", mx=[(10, "mx1")], addr6="::1")
    env.settings = {**env.start(), "EVMAIL_DELIVERY_SMTP_PORT": str(SMTP_PORT)}
    rc, out = route(env, "v6.example")
    assert rc == 0, out
    assert out["hosts"][0]["addresses"] == ["::1", "127.0.0.1"]       # AAAA first
    assert out["mx_secure"] is True
    # Zones change after start: edit, restart (re-signed, same port).
    env.zone("v6.example").add("@", "MX", "5 mx0.v6.example.").add("mx0", "A", "127.0.0.2")
    port = env.dns_port
    env.restart()
    assert env.dns_port == port
    rc, out = route(env, "v6.example")
    assert rc == 0, out
    assert names(out) == ["mx0.v6.example", "mx1.v6.example"]
    assert out["hosts"][0]["addresses"] == ["127.0.0.2"]
