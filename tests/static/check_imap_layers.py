#!/usr/bin/env python3
"""check_imap_layers - keeps gateway/imap/ shaped as docs/ARCHITECTURE.md
says (issue 9 section 4). Exit 1 with one line per problem when:

- an engine (any non-test file not named imap_cmd_*) includes
  imap_commands.h or a command header imap_cmd_*.h: engines sit below the
  commands and never call one (the dispatcher, imap_session.c, may include
  the table's lookup, imap_cmd_table.h);
- the include graph has a cycle. Its nodes are modules: a header with the
  .c files that define the functions it declares; a module points at the
  modules whose headers its files include. A cycle there is a set of files
  that call each other in a circle;
- a command of the table (imap_cmd_table.c) has no imap_cmd_<name>.c and
  is not in a documented family file (FAMILIES below, whose opening comment
  must name it), or an imap_cmd_*.c serves no command of the table.

Usage: check_imap_layers.py [ROOT]   (ROOT: the repository, default ../..)
"""
import re
import sys
from pathlib import Path

IMAP = "gateway/imap"

# One tight family of commands per file (the file's opening comment names
# each). Files not listed serve the command their name says.
FAMILIES = {
    "imap_cmd_select.c": ["SELECT", "EXAMINE"],
    "imap_cmd_subscribe.c": ["SUBSCRIBE", "UNSUBSCRIBE"],
    "imap_cmd_list.c": ["LIST", "LSUB"],
    "imap_cmd_copy.c": ["COPY", "MOVE"],
    "imap_cmd_quota.c": ["GETQUOTAROOT", "GETQUOTA", "SETQUOTA"],
    "imap_cmd_metadata.c": ["GETMETADATA", "SETMETADATA"],
    "imap_cmd_urlauth.c": ["GENURLAUTH", "RESETKEY", "URLFETCH"],
    "imap_cmd_acl.c": ["SETACL", "DELETEACL", "GETACL", "LISTRIGHTS", "MYRIGHTS"],
    # APPEND with several messages (RFC 3502) or CATENATE (RFC 4469).
    "imap_cmd_multiappend.c": ["APPEND"],
}

# The dispatcher sits above every command: it looks commands up in the
# table (imap_cmd_table.h) and calls them. It may include that header, and
# only that one; any other file doing so is an engine calling commands.
DISPATCHER = ("imap_session.c", "imap_cmd_table.h")

INCLUDE = re.compile(r'^\s*#\s*include\s+"gateway/imap/([^"]+)"', re.M)
# A function definition at column 0: "type name(args)" not ending in ';'.
DEFN = re.compile(r"^(?!static\b)(?!typedef\b)[A-Za-z_][\w \t\*]*?\b([A-Za-z_]\w*)\s*\([^;{]*?\)\s*\n?\{", re.M)
TABLE_ROW = re.compile(r'\{\s*"([A-Z0-9]+)"\s*,\s*(\w+)\s*,')


def sources(root):
    """The files of gateway/imap that are part of the library: name -> text."""
    files = {}
    for p in sorted((root / IMAP).iterdir()):
        n = p.name
        if p.suffix not in (".c", ".h") or n.startswith(("test_", "fuzz_", "main_")) or n.endswith("_testutil.h"):
            continue
        files[n] = p.read_text()
    return files


def strip_comments(text):
    return re.sub(r"/\*.*?\*/|//[^\n]*", " ", text, flags=re.S)


def modules(files):
    """Groups the files into modules: a header and the .c files that define
    the functions it declares are one module (joined transitively); a
    header nobody implements is a module of its own. name -> module id."""
    parent = {n: n for n in files}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    defined = {}
    for n, text in files.items():
        if n.endswith(".c"):
            for fn in DEFN.findall(strip_comments(text)):
                defined.setdefault(fn, set()).add(n)
    for n, text in files.items():
        if not n.endswith(".h"):
            continue
        words = set(re.findall(r"\b[A-Za-z_]\w*\b", strip_comments(text)))
        for fn in words & defined.keys():
            for c in defined[fn]:
                parent[find(c)] = find(n)
    return {n: find(n) for n in files}


def graph(files):
    """module -> set of modules whose headers its files include."""
    mod = modules(files)
    g = {m: set() for m in mod.values()}
    for n, text in files.items():
        for inc in INCLUDE.findall(text):
            if inc in files and mod[inc] != mod[n]:
                g[mod[n]].add(mod[inc])
    return g, mod


def cycles(g):
    """The strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(g[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def is_command_file(name):
    return name.startswith("imap_cmd_") and name != "imap_cmd_table.c"


def check(root):
    """The problems found, one string each (empty: the tree is fine)."""
    root = Path(root)
    files = sources(root)
    problems = []
    # Engines never include a command header.
    for n, text in files.items():
        if is_command_file(n) or n in ("imap_cmd_table.c", "imap_commands.h"):
            continue
        for inc in INCLUDE.findall(text):
            if (n, inc) == DISPATCHER:
                continue
            if inc == "imap_commands.h" or (inc.startswith("imap_cmd_") and inc.endswith(".h")):
                problems.append(f"{IMAP}/{n}: an engine includes the command header {inc}")
    # No cycle.
    g, mod = graph(files)
    for comp in cycles(g):
        members = sorted(n for n in files if mod[n] in comp)
        problems.append(f"{IMAP}: include cycle among " + " ".join(members))
    # Every command of the table has its file.
    table = files.get("imap_cmd_table.c", "")
    names = [m[0] for m in TABLE_ROW.findall(table)]
    if not names:
        problems.append(f"{IMAP}/imap_cmd_table.c: no command table found")
    served = {}
    for f, cmds in FAMILIES.items():
        for c in cmds:
            served.setdefault(c, []).append(f)
    for c in names:
        own = f"imap_cmd_{c.lower()}.c"
        if own in files:
            continue
        fams = [f for f in served.get(c, []) if f in files]
        if not fams:
            problems.append(f"{IMAP}: command {c} has no {own} nor a family file")
            continue
        for f in fams:
            head = re.match(r"\s*/\*.*?\*/", files[f], re.S)
            if head is None or not re.search(rf"\b{c}\b", head.group(0)):
                problems.append(f"{IMAP}/{f}: its opening comment does not name {c}")
    for n in files:
        if not n.endswith(".c") or not is_command_file(n):
            continue
        stem = n[len("imap_cmd_"):-2].upper()
        if stem not in names and n not in FAMILIES:
            problems.append(f"{IMAP}/{n}: serves no command of imap_cmd_table.c")
    return problems


def main(argv):
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[2]
    problems = check(root)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
