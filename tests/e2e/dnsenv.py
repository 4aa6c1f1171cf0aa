"""dnsenv - a private DNS world for delivery tests: DNSSEC-signed and
unsigned zones served by a real nsd on 127.0.0.1, a trust anchor file for
them, a test CA, and MTA-STS policies served over HTTPS.

Usage (from a test module in tests/e2e):

    from dnsenv import dns_env   # noqa: F401  (the fixture)

    def test_x(dns_env, nodes):
        env = dns_env()                               # a DnsEnv, not started
        cert, key = env.issue_cert("mx1.sec.example")    # signed by env.ca_cert
        env.mail_domain("sec.example", signed=True, mx=[(10, "mx1")],
                        tlsa_cert=cert, smtp_port=port)
        env.mail_domain("plain.example", signed=False, mx=[(10, "mx1")])
        env.mail_domain("bogus.example", bogus=True, mx=[(10, "mx1")])
        env.mta_sts("sts.example", mode="enforce", mx=["mx1.sts.example"])
        settings = env.start()      # {"EVMAIL_DNS_RESOLVERS": "127.0.0.1@p", ...}
        node = nodes("a", env={**settings, "EVMAIL_DELIVERY_SMTP_PORT": port})

Every name resolves only through env's nsd (dns.resolvers); every address
record points at 127.0.0.1 unless told otherwise. Zones can be changed after
start(): edit them and call env.restart() (re-signs, same port). Policies
can be changed at any time with env.mta_sts(...) / env.set_policy_text().
Everything is stopped at teardown; every wait is bounded.
"""

import datetime
import hashlib
import http.server
import os
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path

import pytest

# libunbound's default local zones (RFC 6761 names) answer these itself:
# zones of a test world live under .example instead.
UNBOUND_BLOCKED_TLDS = {"test", "invalid", "localhost", "onion"}

TOOL_TIMEOUT = 60        # seconds for one openssl/ldns run
START_TIMEOUT = 20       # seconds for nsd to answer


def _free_port():
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u, \
                socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            u.bind(("127.0.0.1", 0))
            port = u.getsockname()[1]
            try:
                t.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


def _run(cmd, cwd=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVMAIL_")}
    p = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True,
                       timeout=TOOL_TIMEOUT, env=env)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))}: exit {p.returncode}\n{p.stderr}")
    return p.stdout


def _spki_der(cert):
    pem = _run(["openssl", "x509", "-in", cert, "-noout", "-pubkey"])
    p = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pem.encode(),
                       capture_output=True, timeout=TOOL_TIMEOUT, check=True)
    return p.stdout


def _cert_der(cert):
    p = subprocess.run(["openssl", "x509", "-in", str(cert), "-outform", "DER"],
                       capture_output=True, timeout=TOOL_TIMEOUT, check=True)
    return p.stdout


def tlsa_rdata(cert, usage=3, selector=1, mtype=1):
    """The TLSA rdata text ("3 1 1 <hex>") of a PEM certificate (RFC 6698)."""
    data = _spki_der(cert) if selector == 1 else _cert_der(cert)
    if mtype == 1:
        data = hashlib.sha256(data).digest()
    elif mtype == 2:
        data = hashlib.sha512(data).digest()
    return f"{usage} {selector} {mtype} {data.hex()}"


class Zone:
    """One zone's records; owners are relative ("mx1", "@") or absolute."""

    def __init__(self, name, signed=True, bogus=False):
        self.name = name.rstrip(".")
        self.signed = signed or bogus
        self.bogus = bogus         # signed with signatures that expired in 2020
        self.records = []

    def fqdn(self, owner):
        if owner in ("@", ""):
            return self.name + "."
        if owner.endswith("."):
            return owner
        return f"{owner}.{self.name}."

    def add(self, owner, rtype, rdata, ttl=60):
        self.records.append((self.fqdn(owner), ttl, rtype.upper(), rdata))
        return self

    def remove(self, owner, rtype=None):
        fq = self.fqdn(owner)
        self.records = [r for r in self.records
                        if not (r[0] == fq and (rtype is None or r[2] == rtype.upper()))]
        return self

    def tlsa(self, host, port, cert, usage=3, selector=1, mtype=1):
        """TLSA _<port>._tcp.<host> computed from cert (a PEM path)."""
        fq = self.fqdn(host)
        self.add(f"_{port}._tcp.{fq}", "TLSA", tlsa_rdata(cert, usage, selector, mtype))
        return self

    def text(self):
        lines = [f"$ORIGIN {self.name}.", "$TTL 60",
                 f"@ IN SOA ns.{self.name}. hostmaster.{self.name}. 1 3600 600 86400 60",
                 f"@ IN NS ns.{self.name}.", f"ns.{self.name}. IN A 127.0.0.1"]
        for owner, ttl, rtype, rdata in self.records:
            lines.append(f"{owner} {ttl} IN {rtype} {rdata}")
        return "\n".join(lines) + "\n"


class _StsHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        env = self.server.dnsenv
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        domain = host[len("mta-sts."):] if host.startswith("mta-sts.") else ""
        env.sts_requests.append((domain, self.path))
        entry = env.policies.get(domain)
        if self.path != "/.well-known/mta-sts.txt" or entry is None:
            self.send_error(404)
            return
        status, ctype, body = entry
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


class DnsEnv:
    """A DNS world in workdir. See the module docstring."""

    def __init__(self, workdir):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.zones = {}
        self.policies = {}                    # domain -> (status, content type, body bytes)
        self.sts_requests = []                # (domain, path) served so far
        self.dns_port = None
        self.sts_port = None
        self.nsd = None
        self.httpd = None
        self._keys = {}                       # zone -> (zsk base, ksk base)
        self.ca_cert, self.ca_key = self._make_ca()
        self.trust_anchor_file = self.dir / "trust-anchors.txt"

    # ---------------------------------------------------------------- certs
    def _make_ca(self):
        d = self.dir / "ca"
        d.mkdir(exist_ok=True)
        cert, key = d / "ca.pem", d / "ca.key"
        _run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
              "-nodes", "-days", "30", "-subj", "/CN=evmail test CA", "-keyout", key, "-out", cert,
              "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        return cert, key

    def issue_cert(self, name, *alt_names):
        """(cert path, key path) for name (and alt_names), signed by the test CA."""
        d = self.dir / "certs"
        d.mkdir(exist_ok=True)
        base = d / name.replace("*", "_wild")
        key, csr, cert, ext = (base.with_suffix(s) for s in (".key", ".csr", ".pem", ".ext"))
        sans = ",".join(f"DNS:{n}" for n in (name, *alt_names))
        ext.write_text(f"subjectAltName={sans}\nbasicConstraints=CA:FALSE\n"
                       "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
        _run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
              "-subj", f"/CN={name}", "-keyout", key, "-out", csr])
        _run(["openssl", "x509", "-req", "-in", csr, "-CA", self.ca_cert, "-CAkey", self.ca_key,
              "-set_serial", str(int.from_bytes(os.urandom(8), "big")), "-days", "30",
              "-extfile", ext, "-out", cert])
        return cert, key

    # ---------------------------------------------------------------- zones
    def zone(self, name, signed=True, bogus=False):
        """The Zone called name (created on first use)."""
        name = name.rstrip(".").lower()
        if name.split(".")[-1] in UNBOUND_BLOCKED_TLDS:
            raise ValueError(f"{name}: libunbound answers NXDOMAIN itself under "
                             f".{name.split('.')[-1]} (a default local zone); use *.example")
        if name not in self.zones:
            self.zones[name] = Zone(name, signed, bogus)
        return self.zones[name]

    def mail_domain(self, domain, signed=True, bogus=False, mx=((10, "mx1"),), addr="127.0.0.1",
                    addr6=None, tlsa_cert=None, smtp_port=25, tlsa_usage=3):
        """A zone for domain with MX records mx [(preference, host)] whose hosts
        (relative names get an A record addr, and AAAA addr6 when given) and
        TLSA records for tlsa_cert at smtp_port on each relative host."""
        z = self.zone(domain, signed, bogus)
        for pref, host in mx:
            z.add("@", "MX", f"{pref} {z.fqdn(host)}")
            if not host.endswith("."):
                z.add(host, "A", addr)
                if addr6:
                    z.add(host, "AAAA", addr6)
                if tlsa_cert is not None:
                    z.tlsa(host, smtp_port, tlsa_cert, usage=tlsa_usage,
                           selector=0 if tlsa_usage == 2 else 1)
        return z

    def mta_sts(self, domain, mode="enforce", mx=None, max_age=86400, id="1", txt=None):
        """Publishes _mta-sts.<domain> TXT "v=STSv1; id=<id>" (or txt), an A
        record for mta-sts.<domain>, and serves the policy. The zone of
        domain must exist (mail_domain/zone). Call restart() after start()."""
        z = self.zone(domain)
        z.remove("_mta-sts", "TXT")
        z.add("_mta-sts", "TXT", f'"{txt if txt is not None else f"v=STSv1; id={id}"}"')
        if not any(r[0] == z.fqdn("mta-sts") for r in z.records):
            z.add("mta-sts", "A", "127.0.0.1")
        if mx is None:
            mx = [f"*.{domain}"]
        body = f"version: STSv1\nmode: {mode}\n" + "".join(f"mx: {m}\n" for m in mx) + \
            f"max_age: {max_age}\n"
        self.set_policy_text(domain, body)

    def set_policy_text(self, domain, body, status=200, ctype="text/plain"):
        """What https://mta-sts.<domain>/.well-known/mta-sts.txt answers;
        body None = 404."""
        if body is None:
            self.policies.pop(domain, None)
        else:
            self.policies[domain] = (status, ctype, body.encode() if isinstance(body, str) else body)

    # ---------------------------------------------------------------- signing
    def _sign(self, z, zfile):
        kd = self.dir / "keys"
        kd.mkdir(exist_ok=True)
        if z.name not in self._keys:
            zsk = _run(["ldns-keygen", "-a", "ECDSAP256SHA256", z.name], cwd=kd).strip()
            ksk = _run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", z.name], cwd=kd).strip()
            self._keys[z.name] = (kd / zsk, kd / ksk)
        zsk, ksk = self._keys[z.name]
        cmd = ["ldns-signzone", "-f", f"{zfile}.signed"]
        now = datetime.datetime.now(datetime.timezone.utc)
        if z.bogus:
            cmd += ["-i", "20190101", "-e", "20200101"]
        else:
            cmd += ["-i", (now - datetime.timedelta(days=1)).strftime("%Y%m%d%H%M%S"),
                    "-e", (now + datetime.timedelta(days=30)).strftime("%Y%m%d%H%M%S")]
        _run(cmd + [zfile, zsk, ksk], cwd=kd)
        return Path(f"{zfile}.signed"), Path(f"{ksk}.ds").read_text()

    def _write(self):
        zd = self.dir / "zones"
        zd.mkdir(exist_ok=True)
        anchors, conf_zones = [], []
        for z in self.zones.values():
            zfile = zd / f"{z.name}.zone"
            zfile.write_text(z.text())
            if z.signed:
                zfile, ds = self._sign(z, zfile)
                anchors.append(ds.strip())
            conf_zones.append(f"zone:\n\tname: {z.name}\n\tzonefile: {zfile}\n")
        self.trust_anchor_file.write_text("\n".join(anchors) + "\n")
        nd = self.dir / "nsd"
        nd.mkdir(exist_ok=True)
        conf = nd / "nsd.conf"
        conf.write_text(
            "server:\n"
            f"\tip-address: 127.0.0.1@{self.dns_port}\n"
            f"\tport: {self.dns_port}\n"
            "\tdo-ip6: no\n"
            "\tusername: \"\"\n"
            "\tchroot: \"\"\n"
            f"\tzonesdir: \"{zd}\"\n"
            "\tdatabase: \"\"\n"
            f"\tzonelistfile: \"{nd}/zone.list\"\n"
            f"\txfrdfile: \"{nd}/xfrd.state\"\n"
            f"\txfrdir: \"{nd}\"\n"
            f"\tpidfile: \"{nd}/nsd.pid\"\n"
            f"\tlogfile: \"{nd}/nsd.log\"\n"
            "\tserver-count: 1\n"
            "\tverbosity: 1\n"
            "\thide-version: yes\n"
            "remote-control:\n\tcontrol-enable: no\n"
            + "".join(conf_zones))
        return conf

    # ---------------------------------------------------------------- servers
    def _dns_answers(self):
        """True when nsd answers a SOA query for the first zone over UDP."""
        import dns.message
        import dns.query
        name = next(iter(self.zones)) if self.zones else "."
        q = dns.message.make_query(name, "SOA")
        try:
            r = dns.query.udp(q, "127.0.0.1", port=self.dns_port, timeout=0.5)
        except Exception:  # noqa: BLE001 - not up yet
            return False
        return r.rcode() == 0

    def _start_nsd(self):
        conf = self._write()
        log = open(self.dir / "nsd" / "nsd.out", "ab")
        self.nsd = subprocess.Popen(["nsd", "-d", "-c", str(conf)], stdout=log, stderr=log,
                                    start_new_session=True)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._dns_answers():
            if self.nsd.poll() is not None or time.monotonic() > deadline:
                self._stop_nsd()
                raise RuntimeError("nsd did not start:\n" + self.nsd_log())
            time.sleep(0.1)

    def _stop_nsd(self):
        if self.nsd is not None and self.nsd.poll() is None:
            self.nsd.send_signal(signal.SIGTERM)
            try:
                self.nsd.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.nsd.pid, signal.SIGKILL)
                self.nsd.wait(10)
        self.nsd = None

    def nsd_log(self):
        out = []
        for f in ("nsd.out", "nsd.log"):
            p = self.dir / "nsd" / f
            if p.exists():
                out.append(p.read_text(errors="replace")[-4000:])
        return "\n".join(out)

    def _start_https(self):
        names = [f"mta-sts.{d}" for d in sorted(self.zones)] or ["mta-sts.invalid"]
        cert, key = self.issue_cert(*names)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.sts_port), _StsHandler)
        httpd.daemon_threads = True
        httpd.timeout = 10
        httpd.dnsenv = self
        httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
        threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2},
                         daemon=True).start()
        self.httpd = httpd

    def start(self):
        """Starts nsd and the HTTPS policy server; returns the settings for
        evmaild (EVMAIL_DNS_RESOLVERS, EVMAIL_DNS_TRUST_ANCHOR_FILE,
        EVMAIL_DELIVERY_MTA_STS_PORT, EVMAIL_DELIVERY_TLS_CA_FILE)."""
        if self.dns_port is None:
            self.dns_port = _free_port()
            self.sts_port = _free_port()
        self._start_nsd()
        if self.httpd is None:
            self._start_https()
        return self.env

    def restart(self):
        """After zone changes: re-sign, restart nsd on the same port (and the
        HTTPS server, for new mta-sts names)."""
        self._stop_nsd()
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None
        return self.start()

    @property
    def env(self):
        return {
            "EVMAIL_DNS_RESOLVERS": f"127.0.0.1@{self.dns_port}",
            "EVMAIL_DNS_TRUST_ANCHOR_FILE": str(self.trust_anchor_file),
            "EVMAIL_DELIVERY_MTA_STS_PORT": str(self.sts_port),
            "EVMAIL_DELIVERY_TLS_CA_FILE": str(self.ca_cert),
        }

    def stop(self):
        self._stop_nsd()
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None


def _tools_missing():
    return [t for t in ("nsd", "ldns-keygen", "ldns-signzone", "openssl") if shutil.which(t) is None]


@pytest.fixture
def dns_env(tmp_path):
    """Factory: dns_env(name="dns") -> DnsEnv (not started) in tmp_path/name.
    Every env made is stopped at teardown."""
    missing = _tools_missing()
    if missing:
        pytest.fail(f"missing tools for the DNS test environment: {', '.join(missing)} "
                    "(scripts/install-deps.sh)")
    made = []

    def make(name="dns"):
        e = DnsEnv(tmp_path / name)
        made.append(e)
        return e

    yield make
    for e in made:
        e.stop()
