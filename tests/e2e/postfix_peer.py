"""postfix_peer - a real Postfix (the Debian package) as a receiving MTA for
end-to-end tests, on 127.0.0.1:<port>, entirely inside a temp directory.

    peer = PostfixPeer(tmp_path / "postfix", domains=["peer.test"],
                       cert=cert, key=key).start()
    ... send to someone@peer.test on 127.0.0.1:peer.port ...
    msgs = peer.wait_for_messages(1, addr="someone@peer.test")   # [bytes]
    peer.stop()

Its own config_directory (main.cf, master.cf), queue_directory,
data_directory and mail directory live under the work directory: the
system's /etc/postfix and port 25 are never touched (`postfix -c DIR`).
Mail for the configured domains is accepted for any local part and
delivered by the virtual(8) agent into one Maildir per domain,
<work>/mail/<domain>/new/ (messages(addr) picks by Delivered-To). Nothing is ever relayed
(default_transport = error). The Postfix log goes to <work>/postfix.log
(maillog_file). TLS: with cert/key, smtpd offers STARTTLS (security level
may). The `postfix_peer` pytest fixture is a factory that stops every peer
it started.
"""

import os
import pwd
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"

# Internal services every Postfix needs (no chroot: the queue directory is
# ours, not a prepared chroot jail).
_MASTER_CF = """\
{listen} inet  n       -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostfixPeer:
    def __init__(self, workdir, *, port=None, domains=("peer.test",), cert=None, key=None,
                 hostname="peer.test", message_size_limit=10240000, extra_main=None):
        self.dir = Path(workdir).resolve()
        self.port = port or _free_port()
        self.domains = list(domains)
        self.cert, self.key = cert, key
        self.hostname = hostname
        self.message_size_limit = message_size_limit
        self.extra_main = dict(extra_main or {})
        self.config_dir = self.dir / "etc"
        self.queue_dir = self.dir / "queue"
        self.data_dir = self.dir / "data"
        self.mail_dir = self.dir / "mail"
        self.log_file = self.dir / "postfix.log"
        self.started = False

    # ------------------------------------------------------------- setup
    def _traversable(self):
        """Postfix daemons run as the postfix user: every directory above the
        work directory must let others search it (pytest's and mkdtemp's are
        0700). Only the search bit is added, only to our own directories."""
        self.dir.mkdir(parents=True, exist_ok=True)
        for d in [self.dir, *self.dir.parents]:
            if d == Path("/"):
                break
            st = d.stat()
            if st.st_uid == os.getuid() and not st.st_mode & 0o001:
                os.chmod(d, (st.st_mode & 0o7777) | 0o011)

    def _write_config(self):
        pw = pwd.getpwnam("postfix")
        self._traversable()
        for d in (self.config_dir, self.queue_dir, self.data_dir, self.mail_dir):
            d.mkdir(parents=True, exist_ok=True)
        # virtual(8) delivers as the postfix user into the Maildirs.
        os.chown(self.mail_dir, pw.pw_uid, pw.pw_gid)
        os.chown(self.data_dir, pw.pw_uid, pw.pw_gid)
        # one catch-all Maildir per domain (virtual(8) refuses regexp
        # substitutions); recipients are told apart by Delivered-To.
        (self.config_dir / "vmailbox").write_text("".join(f"@{d} {d.lower()}/\n" for d in self.domains))
        main = {
            "compatibility_level": "3.6",
            "queue_directory": str(self.queue_dir),
            "data_directory": str(self.data_dir),
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "myhostname": self.hostname,
            "mydomain": self.hostname,
            "myorigin": self.hostname,
            "mydestination": "",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "smtpd_recipient_restrictions": "permit_mynetworks, reject_unauth_destination",
            "virtual_mailbox_domains": " ".join(self.domains),
            "virtual_mailbox_base": str(self.mail_dir),
            "virtual_mailbox_maps": f"texthash:{self.config_dir / 'vmailbox'}",
            "virtual_uid_maps": f"static:{pw.pw_uid}",
            "virtual_gid_maps": f"static:{pw.pw_gid}",
            "virtual_minimum_uid": "1",
            "default_transport": "error:this test peer relays nothing",
            "relay_transport": "error:this test peer relays nothing",
            "local_transport": "error:no local delivery",
            "alias_maps": "",
            "alias_database": "",
            "biff": "no",
            "smtputf8_enable": "yes",
            "message_size_limit": str(self.message_size_limit),
            "maillog_file": str(self.log_file),
            "maillog_file_prefixes": str(self.dir),
            "smtpd_banner": "$myhostname ESMTP postfix_peer",
            "smtpd_tls_security_level": "may" if self.cert else "none",
        }
        if self.cert:
            main["smtpd_tls_chain_files"] = f"{self.key}, {self.cert}"
        main.update(self.extra_main)
        (self.config_dir / "main.cf").write_text("".join(f"{k} = {v}\n" for k, v in main.items()))
        (self.config_dir / "master.cf").write_text(_MASTER_CF.format(listen=f"127.0.0.1:{self.port}"))

    def _postfix(self, *args, timeout=60):
        return subprocess.run([POSTFIX, "-c", str(self.config_dir), *args], capture_output=True,
                              text=True, timeout=timeout)

    # ------------------------------------------------------------- control
    def start(self, timeout=60.0):
        self._write_config()
        p = self._postfix("start", timeout=timeout)
        if p.returncode != 0:
            raise RuntimeError(f"postfix start failed: {p.stdout}{p.stderr}\n{self.log()}")
        self.started = True
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
                    s.settimeout(10)
                    if s.recv(512).startswith(b"220"):
                        s.sendall(b"QUIT\r\n")
                        return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"postfix on port {self.port} not answering after {timeout}s\n{self.log()}")
            time.sleep(0.2)

    def master_pid(self):
        try:
            return int((self.queue_dir / "pid" / "master.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self, timeout=30.0):
        if not self.started:
            return
        pid = self.master_pid()
        self._postfix("stop", timeout=timeout)
        deadline = time.monotonic() + timeout
        while pid is not None and time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            if pid is not None:
                self._postfix("abort", timeout=timeout)
        self.started = False

    def __enter__(self):
        return self.start() if not self.started else self

    def __exit__(self, *exc):
        self.stop()

    # ------------------------------------------------------------- reading
    def log(self):
        try:
            return self.log_file.read_text(errors="replace")
        except OSError:
            return ""

    def messages(self, addr=None):
        """Delivered messages (bytes, as stored: Postfix adds Return-Path,
        Delivered-To and Received) in delivery order, for addr or everyone."""
        files = []
        for d in sorted(self.mail_dir.glob("*/new")):
            files.extend(d.iterdir())
        files.sort(key=lambda f: (f.stat().st_mtime, f.name))
        out = [f.read_bytes() for f in files]
        if addr is not None:
            want = b"delivered-to: " + addr.lower().encode()
            out = [m for m in out if any(line.strip().lower() == want
                                         for line in m.split(b"\n\n", 1)[0].split(b"\n"))]
        return out

    def wait_for_messages(self, n, timeout=60.0, addr=None):
        """At least n delivered messages (for addr); AssertionError after timeout."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.messages(addr)
            if len(got) >= n:
                return got
            if time.monotonic() > deadline:
                raise AssertionError(f"postfix peer: {len(got)} of {n} messages after {timeout}s\n"
                                     + "\n".join(self.log().splitlines()[-30:]))
            time.sleep(0.2)


@pytest.fixture
def postfix_peer(tmp_path):
    """Factory: postfix_peer(**PostfixPeer kwargs) -> a started peer; all stopped at teardown."""
    peers = []

    def make(**kw):
        p = PostfixPeer(tmp_path / f"postfix{len(peers)}", **kw)
        peers.append(p)
        return p.start()
    yield make
    for p in peers:
        p.stop()
