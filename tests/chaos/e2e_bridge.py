"""e2e_bridge - the end-to-end harness of tests/e2e (conftest.py: Node,
evmailctl, wait_until, free_port, clean_env, ...; smtp_sink.py: SmtpSink)
for the chaos tests, loaded under a module name of its own so that it never
collides with pytest's own "conftest" modules.

    from e2e_bridge import e2e, SmtpSink
    node = e2e.Node("a", tmp_path / "a", env={...})
"""

import importlib.util
import sys
from pathlib import Path

E2E_DIR = Path(__file__).resolve().parents[1] / "e2e"
_NAME = "evmail_e2e_harness"

# smtp_sink.py (and conftest.py's own imports) come from tests/e2e.
if str(E2E_DIR) not in sys.path:
    sys.path.append(str(E2E_DIR))


def _load():
    """tests/e2e/conftest.py as module evmail_e2e_harness (loaded once)."""
    if _NAME in sys.modules:
        return sys.modules[_NAME]
    spec = importlib.util.spec_from_file_location(_NAME, E2E_DIR / "conftest.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[_NAME] = mod
    spec.loader.exec_module(mod)
    return mod


e2e = _load()

from smtp_sink import SmtpSink  # noqa: E402  (needs E2E_DIR on sys.path)

__all__ = ["e2e", "SmtpSink", "E2E_DIR"]
