"""Bulk apply during a rebuild (issue #12): kill -9 in the middle of a
rebuild, the next start sees the view's marker, rebuilds again, and ends
with the digest of the view before; a fresh replica (a copy of the log)
replays in bulk to the same digest. projector.bulk_min is 1 here so that a
small log is applied in bulk."""
import shutil

from conftest import assert_ok, make_batches, reference_hash, wait_until

BULK_ENV = {"EVMAIL_PROJECTOR_BULK_MIN": "1", "EVMAIL_PROJECTOR_BATCH_MAX": "20"}


def post_all(node, batches):
    for cmds, _ in batches:
        r = node.http("POST", "/admin/commands", body=cmds, timeout=120)
        assert r.status == 200, (r, node.diag())


def test_kill9_during_bulk_rebuild_then_fresh_replica(nodes):
    a = nodes("bulk-a", env=BULK_ENV)
    a.start(wait="ready")
    batches = make_batches("bulk", reference_hash(a), nbatches=20, batch_size=500)
    post_all(a, batches)
    a.wait_ready(120)
    digest0 = a.digest()

    # Kill while the rebuild is under way (some progress, not done); a
    # rebuild that finished first is tried again, a few times at most.
    killed_mid = False
    for attempt in range(4):
        before = a.status()["rebuild"]["completed"]
        assert_ok(a.ctl("rebuild", "--no-wait"))
        wait_until(lambda: a.status()["rebuild"]["done"] > 0 or
                   a.status()["rebuild"]["completed"] > before,
                   120, interval=0.005, what="rebuild progress", diag=a.diag)
        st = a.status()
        a.kill9()
        if st["state"] == "rebuilding" and st["rebuild"]["completed"] == before:
            assert st["rebuild"]["total"] > 0 and st["rebuild"]["rate"] >= 0
            killed_mid = True
            break
        a.start(wait="ready")
    assert killed_mid, "every rebuild finished before the kill"

    a.start(wait="ready", timeout=180)
    log = a.log_path.read_text(errors="replace")
    assert "unfinished bulk apply" in log, a.diag()
    assert a.digest() == digest0, "the rebuild after the crash gave another view"
    assert a.status()["events_applied"] > 0

    # A fresh node on a copy of the log replays in bulk to the same view.
    assert a.stop() == 0
    b = nodes("bulk-b", env=BULK_ENV)
    b.data_dir.mkdir(parents=True)
    shutil.copytree(a.data_dir / "log", b.data_dir / "log")
    b.start(wait="ready", timeout=180)
    assert b.digest() == digest0
    # Ready comes with the last commit; the flush that ends the bulk apply
    # follows it.
    wait_until(lambda: "bulk apply done" in b.log_path.read_text(errors="replace"), 60,
               what="the end of b's bulk apply", diag=b.diag)
