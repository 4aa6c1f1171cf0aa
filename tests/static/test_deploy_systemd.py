"""deploy/systemd/evmaild.service: `systemd-analyze verify` finds nothing
to say about it (every directive known and parsed, the binary executable),
and it has the privilege and hardening settings of issue 8."""
import configparser
import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("EVMAIL_BUILD_DIR", ROOT / "build"))
UNIT = ROOT / "deploy/systemd/evmaild.service"
# Debian's systemd package (scripts/install-deps.sh); no running systemd needed.
ANALYZE = shutil.which("systemd-analyze") or "/usr/bin/systemd-analyze"


def verify(unit_text, tmp_path, name="evmaild.service"):
    """systemd-analyze verify on unit_text with the installed paths pointed at
    the build; returns its complaints (verify exits 0 on many of them)."""
    text = unit_text.replace("/usr/local/bin/evmaild", str(BUILD / "gateway" / "evmaild"))
    path = tmp_path / name
    path.write_text(text)
    r = subprocess.run([ANALYZE, "verify", str(path)], capture_output=True, text=True,
                       env={"PATH": os.environ["PATH"], "SYSTEMD_LOG_LEVEL": "warning"})
    lines = (r.stdout + r.stderr).splitlines()
    if r.returncode != 0:
        return lines + [f"systemd-analyze exited {r.returncode}"]
    # Messages about the host's other units are not ours.
    return [line for line in lines if name in line]


def parse(path):
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read(path)
    return unit


def test_unit_verifies(tmp_path):
    assert verify(UNIT.read_text(), tmp_path) == []


def test_verify_reports_mistakes(tmp_path):
    text = UNIT.read_text()
    assert verify(text.replace("ProtectSystem=strict", "ProtectSytem=strict"), tmp_path)
    assert verify(text.replace("ProtectSystem=strict", "ProtectSystem=bogus"), tmp_path)
    assert verify(text.replace("/usr/local/bin/evmaild --check", "/nonexistent/evmaild --check"), tmp_path)


def test_unit_privileges_and_hardening():
    unit = parse(UNIT)
    svc = unit["Service"]
    assert svc["ExecStart"].split()[0] == "/usr/local/bin/evmaild"
    assert "--check-config" in svc["ExecStartPre"]
    assert svc["Environment"].split("=", 1)[0] == "EVMAIL_CONFIG"
    assert unit["Install"]["WantedBy"] == "multi-user.target"
    assert svc["User"] == "evmail" and svc["Group"] == "evmail"
    assert svc["AmbientCapabilities"] == "CAP_NET_BIND_SERVICE"
    assert svc["CapabilityBoundingSet"] == "CAP_NET_BIND_SERVICE"
    expect = {
        "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
        "PrivateTmp": "yes", "PrivateDevices": "yes", "ProtectKernelTunables": "yes",
        "ProtectKernelModules": "yes", "ProtectKernelLogs": "yes",
        "ProtectControlGroups": "yes", "RestrictNamespaces": "yes",
        "RestrictSUIDSGID": "yes", "LockPersonality": "yes",
        "MemoryDenyWriteExecute": "yes", "SystemCallArchitectures": "native",
        "StateDirectory": "evmail", "ReadWritePaths": "/var/lib/evmail",
    }
    for key, value in expect.items():
        assert svc.get(key) == value, f"{key}={svc.get(key)}"
    families = set(svc["RestrictAddressFamilies"].split())
    assert {"AF_INET", "AF_INET6", "AF_UNIX"} <= families
    assert "AF_PACKET" not in families
    # configparser keeps the last of repeated keys: read them all.
    filters = [line.split("=", 1)[1] for line in UNIT.read_text().splitlines()
               if line.startswith("SystemCallFilter=")]
    assert "@system-service" in filters


def test_unit_matches_example_config():
    """The unit's data directory is the example config's node.data_dir."""
    conf = (ROOT / "deploy/config/evmail.conf").read_text()
    assert "\ndata_dir = /var/lib/evmail\n" in conf
    assert parse(UNIT)["Service"]["WorkingDirectory"] == "/var/lib/evmail"
