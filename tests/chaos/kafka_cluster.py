"""kafka_cluster - a 3-broker KRaft cluster for the chaos tests, driven
through tests/kafka/cluster.sh: start, kill -9 one broker, restart it,
wait until every partition has its full ISR again, stop.

Every call is bounded in time; stop() always ends every broker JVM."""

import atexit
import json
import shutil
import subprocess
import time
from pathlib import Path

from e2e_bridge import e2e

CLUSTER_SH = e2e.REPO / "tests" / "kafka" / "cluster.sh"


class KafkaCluster:
    def __init__(self, workdir, size=3):
        self.dir = Path(workdir)
        self.size = size
        self.ports = []
        self.down = set()          # broker ids killed and not yet restarted
        self.bootstrap = None

    def _sh(self, *args, timeout=180):
        p = subprocess.run(["bash", str(CLUSTER_SH), *map(str, args)], capture_output=True, text=True,
                           timeout=timeout, env=e2e.clean_env(), start_new_session=True)
        return p

    def start(self):
        """Formats and starts the brokers; raises with the log tail on failure."""
        for tool in ("java", "kcat"):
            if shutil.which(tool) is None:
                raise RuntimeError(f"{tool} is not on PATH (scripts/install-deps.sh installs it)")
        ports = set()
        while len(ports) < self.size:
            p = e2e.free_port(pair=True)
            if not ({p, p + 1} & {q for x in ports for q in (x, x + 1)}):
                ports.add(p)
        self.ports = sorted(ports)
        atexit.register(self.stop)     # also when pytest is interrupted (SIGTERM, see conftest)
        p = self._sh("start", self.dir, *self.ports, timeout=240)
        if p.returncode != 0:
            self.stop()
            raise RuntimeError(f"cluster.sh start failed ({p.returncode}):\n{p.stderr}")
        self.bootstrap = (self.dir / "bootstrap").read_text().strip()
        return self

    def kill(self, i):
        """kill -9 of broker i (1-based)."""
        p = self._sh("kill", self.dir, i, timeout=30)
        assert p.returncode == 0, f"cluster.sh kill {i}: {p.stderr}"
        self.down.add(i)

    def restart(self, i):
        """Starts broker i again on its data; waits until it says started."""
        p = self._sh("restart", self.dir, i, timeout=180)
        assert p.returncode == 0, f"cluster.sh restart {i}: {p.stderr}\n{self.log_tail(i)}"
        self.down.discard(i)

    def stop(self):
        """Stops every broker (harmless when already stopped)."""
        if not self.ports:
            return True
        p = self._sh("stop", self.dir, timeout=90)
        self.ports = []
        return p.returncode == 0

    def metadata(self):
        """kcat's metadata JSON (topics, partitions, replicas, ISRs)."""
        p = subprocess.run(["kcat", "-b", self.bootstrap, "-L", "-J", "-m", "5"], capture_output=True,
                           text=True, timeout=20, start_new_session=True)
        if p.returncode != 0:
            return None
        return json.loads(p.stdout)

    def under_replicated(self, prefix):
        """[(topic, partition)] of prefix's topics and __consumer_offsets
        whose ISR is smaller than the replica set (None: no metadata)."""
        try:
            md = self.metadata()
        except (subprocess.TimeoutExpired, ValueError):
            return None
        if md is None:
            return None
        out = []
        for t in md.get("topics", []):
            name = t["topic"]
            if not (name.startswith(prefix) or name == "__consumer_offsets"):
                continue
            for part in t.get("partitions", []):
                if len(part.get("isrs", [])) < len(part.get("replicas", [])) or part.get("leader", -1) < 0:
                    out.append((name, part["partition"]))
        return out

    def wait_full_isr(self, prefix, timeout):
        """True once every partition of prefix's topics has its full ISR."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.under_replicated(prefix) == []:
                return True
            time.sleep(0.5)
        return False

    def log_tail(self, i, lines=30):
        return e2e.tail(self.dir / str(i) / "broker.log", lines)

    def diag(self):
        return "\n".join(f"---- broker {i} ----\n{self.log_tail(i, 15)}" for i in range(1, self.size + 1))
