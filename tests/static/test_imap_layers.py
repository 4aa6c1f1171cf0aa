"""gateway/imap keeps its shape (check_imap_layers.py): a file per command
of the table, engines that never include a command header, no include
cycle. The check runs on the tree, and on small copies with one violation
each to show that it fails."""
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import check_imap_layers as chk  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def problems_of(root, kind):
    return [p for p in chk.check(root) if kind(p)]


def is_cycle(p):
    return "include cycle" in p


def test_commands_have_their_files_and_engines_no_command_header():
    assert problems_of(ROOT, lambda p: not is_cycle(p)) == []


def test_no_include_cycle():
    assert problems_of(ROOT, is_cycle) == []


@pytest.fixture
def tree(tmp_path):
    """A copy of gateway/imap in a fresh root."""
    shutil.copytree(ROOT / chk.IMAP, tmp_path / chk.IMAP)
    return tmp_path


def write(root, name, text):
    (root / chk.IMAP / name).write_text(text)


def test_fails_on_an_engine_including_a_command_header(tree):
    p = tree / chk.IMAP / "imap_mutf7.c"
    p.write_text('#include "gateway/imap/imap_commands.h"\n' + p.read_text())
    assert any("imap_mutf7.c: an engine includes the command header imap_commands.h" in x
               for x in chk.check(tree))


def test_only_the_dispatcher_may_include_the_table(tree):
    p = tree / chk.IMAP / "imap_mailbox.c"
    p.write_text('#include "gateway/imap/imap_cmd_table.h"\n' + p.read_text())
    p = tree / chk.IMAP / "imap_session.c"
    p.write_text('#include "gateway/imap/imap_commands.h"\n' + p.read_text())
    found = chk.check(tree)
    assert any("imap_mailbox.c: an engine includes the command header imap_cmd_table.h" in x for x in found)
    assert any("imap_session.c: an engine includes the command header imap_commands.h" in x for x in found)


def test_fails_on_a_cycle_through_the_session_core(tree):
    # The core calling an engine directly instead of through s->hooks.
    p = tree / chk.IMAP / "imap_reply.c"
    p.write_text('#include "gateway/imap/imap_mailbox.h"\n' + p.read_text())
    assert any("include cycle" in x and "imap_reply.c" in x for x in chk.check(tree))


def test_fails_on_a_command_without_its_file(tree):
    (tree / chk.IMAP / "imap_cmd_noop.c").unlink()
    assert any("command NOOP has no imap_cmd_noop.c" in x for x in chk.check(tree))


def test_fails_on_a_command_file_of_no_command(tree):
    write(tree, "imap_cmd_frob.c", "/* imap_cmd_frob - nothing */\n")
    assert any("imap_cmd_frob.c: serves no command" in x for x in chk.check(tree))


def test_fails_on_a_family_file_that_does_not_name_its_command(tree):
    p = tree / chk.IMAP / "imap_cmd_subscribe.c"
    p.write_text(p.read_text().replace("UNSUBSCRIBE", "UN-SUBSCRIBE", 1))
    assert any("imap_cmd_subscribe.c: its opening comment does not name UNSUBSCRIBE" in x
               for x in chk.check(tree))


def test_fails_on_a_cycle_between_two_engines(tmp_path):
    # a.c calls b (b.h) and b.c calls a (a.h): one cycle; c.c only calls a.
    d = tmp_path / chk.IMAP
    d.mkdir(parents=True)
    write(tmp_path, "imap_cmd_table.c", '{ "NOOP", imap_cmd_noop, 0 },\n')
    write(tmp_path, "imap_cmd_noop.c", '/* imap_cmd_noop - NOOP */\n#include "gateway/imap/imap_a.h"\n'
          "void imap_cmd_noop(void)\n{\n\ta();\n}\n")
    write(tmp_path, "imap_a.h", "void a(void);\n")
    write(tmp_path, "imap_b.h", "void b(void);\n")
    write(tmp_path, "imap_a.c", '#include "gateway/imap/imap_a.h"\n#include "gateway/imap/imap_b.h"\n'
          "void a(void)\n{\n\tb();\n}\n")
    write(tmp_path, "imap_b.c", '#include "gateway/imap/imap_b.h"\n'
          "void b(void)\n{\n}\n")
    assert chk.check(tmp_path) == []
    write(tmp_path, "imap_b.c", '#include "gateway/imap/imap_b.h"\n#include "gateway/imap/imap_a.h"\n'
          "void b(void)\n{\n\ta();\n}\n")
    assert chk.check(tmp_path) == ["gateway/imap: include cycle among imap_a.c imap_a.h imap_b.c imap_b.h"]
