"""The IMAP grammar and command states, strictly: a table of commands, each
run on a fresh connection in a given state, with the tagged answer the RFCs
require (BAD for what the grammar does not allow, NO for what it allows but
cannot be done, OK otherwise) and strings that must not appear (a "+"
continuation for a literal the server will refuse, an untagged response for
a command refused). Every case names the rule. The session must stay usable
after each BAD: every case ends with a NOOP that must be OK."""

import re
import socket
import time

import pytest

from conftest import Node
from test_imap_core import PASSWORD, USER, imap_node

LOGIN = f"L1 LOGIN {USER} \"{PASSWORD}\""
SELECT = "L2 SELECT {box}"        # each case selects a mailbox of its own holding one message
STATES = {
    "none": [],
    "auth": [LOGIN],
    "selected": [LOGIN, SELECT],
    "utf8": [LOGIN, "L3 ENABLE UTF8=ACCEPT"],
    "utf8 selected": [LOGIN, "L3 ENABLE UTF8=ACCEPT", SELECT],
    "qresync": [LOGIN, "L3 ENABLE QRESYNC"],
    "qresync selected": [LOGIN, "L3 ENABLE QRESYNC", SELECT],
    "rev2": [LOGIN, "L3 ENABLE IMAP4rev2"],
    "rev2 selected": [LOGIN, "L3 ENABLE IMAP4rev2", SELECT],
    "uidonly selected": [LOGIN, "L3 ENABLE UIDONLY", SELECT],
}

X = "x" * 4097
# (rule, state, commands, {tag: expected}, strings that must not appear)
CASES = [
    # RFC 9051 3 / RFC 3501 3: a command in the wrong state is BAD
    ("9051-3 SELECT before login", "none", ["A1 SELECT INBOX"], {"A1": "BAD"}),
    ("9051-3 CREATE before login", "none", ["A1 CREATE foo"], {"A1": "BAD"}),
    ("9051-3 LIST before login", "none", ['A1 LIST "" "*"'], {"A1": "BAD"}),
    ("9051-3 STATUS before login", "none", ["A1 STATUS INBOX (MESSAGES)"], {"A1": "BAD"}),
    ("9051-3 FETCH before login", "none", ["A1 FETCH 1 FLAGS", "A2 UID FETCH 1 FLAGS"], {"A1": "BAD", "A2": "BAD"}),
    ("9051-3 LOGIN twice", "auth", [LOGIN.replace("L1", "A1")], {"A1": "BAD"}),
    ("9051-3 LOGIN when selected", "selected", [LOGIN.replace("L1", "A1")], {"A1": "BAD"}),
    ("9051-3 selected-state commands without a mailbox", "auth",
     ["A1 CLOSE", "A2 EXPUNGE", "A3 SEARCH ALL", "A4 FETCH 1 FLAGS", "A5 STORE 1 +FLAGS (\\Seen)",
      "A6 COPY 1 INBOX", "A7 UID SEARCH ALL", "A8 CHECK"],
     {f"A{i}": "BAD" for i in range(1, 9)}),
    ("9051-3 any-state commands", "none", ["A1 CAPABILITY", "A2 NOOP"], {"A1": "OK", "A2": "OK"}),
    ("9051-3 auth commands when selected", "selected", ['A1 LIST "" INBOX', "A2 STATUS INBOX (MESSAGES)"],
     {"A1": "OK", "A2": "OK"}),
    # RFC 9051 6: "Arguments: none"
    ("9051-6 no-argument commands with an argument", "selected",
     ["A1 CAPABILITY x", "A2 NOOP x", "A3 CHECK x", "A4 CLOSE x", "A5 EXPUNGE x", "A6 UNSELECT x", "A7 IDLE x"],
     {f"A{i}": "BAD" for i in range(1, 8)}),
    ("9051-6.1.3 LOGOUT with an argument", "none", ["A1 LOGOUT x"], {"A1": "BAD"}),
    # RFC 9051 9: argument grammar
    ("9051-9 unknown command", "auth", ["A1 FOOBAR", "A2 UID FOOBAR 1"], {"A1": "BAD", "A2": "BAD"}),
    ("9051-9 LOGIN without a password", "none", ["A1 LOGIN someone"], {"A1": "BAD"}),
    ("9051-9 SELECT arity", "auth", ["A1 SELECT", "A2 SELECT INBOX INBOX", "A3 SELECT (INBOX)", "A4 EXAMINE"],
     {f"A{i}": "BAD" for i in range(1, 5)}),
    ("9051-9 mailbox commands arity", "auth",
     ["A1 CREATE", "A2 DELETE", "A3 RENAME INBOX", "A4 SUBSCRIBE", "A5 UNSUBSCRIBE", 'A6 LIST ""',
      'A7 LSUB ""'], {f"A{i}": "BAD" for i in range(1, 8)}),
    ("9051-9 STATUS items", "auth", ["A1 STATUS INBOX", "A2 STATUS INBOX ()", "A3 STATUS INBOX (FOO)"],
     {"A1": "BAD", "A2": "BAD", "A3": "BAD"}),
    ("9051-9 APPEND message", "auth", ["A1 APPEND INBOX", 'A2 APPEND INBOX "Subject: x"'],
     {"A1": "BAD", "A2": "BAD"}),
    ("9051-9 APPEND date-time", "auth", ['A1 APPEND INBOX "32-Jan-2020 00:00:00 +0000" {3}\r\nabc'],
     {"A1": "BAD"}),
    ("9051-9 APPEND flag must be an atom", "auth", ['A1 APPEND INBOX ("Seen") {3}\r\nabc'], {"A1": "BAD"}),
    ("9051-9 FETCH items", "selected", ["A1 FETCH 1", "A2 FETCH 1 (FOO)", "A3 FETCH 0 FLAGS"],
     {"A1": "BAD", "A2": "BAD", "A3": "BAD"}),
    ("9051-9 nz-number is 32-bit", "selected",
     ["A1 UID FETCH 4294967296 FLAGS", "A2 UID FETCH 1:9999999999 FLAGS",
      "A3 UID STORE 1,4294967296 +FLAGS (\\Seen)", "A4 UID FETCH 1:4294967295 FLAGS"],
     {"A1": "BAD", "A2": "BAD", "A3": "BAD", "A4": "OK"}),
    ("9051-9 seq-number past the last message", "selected",
     ["A1 FETCH 2 FLAGS", "A2 FETCH 1:2 FLAGS", "A3 FETCH 1,3 FLAGS", "A4 FETCH 1:* FLAGS",
      "A5 STORE 2 +FLAGS (\\Seen)", "A6 COPY 2 INBOX"],
     {"A1": "BAD", "A2": "BAD", "A3": "BAD", "A4": "OK", "A5": "BAD", "A6": "BAD"}),
    ("9051-9 seq-number in an empty mailbox", "auth",
     ["A1 CREATE Empty", "A2 SELECT Empty", "A3 FETCH * FLAGS", "A4 FETCH 1 FLAGS",
      "A5 STORE 1:* +FLAGS (\\Seen)", "A6 COPY * INBOX", "A7 UID FETCH 1:* FLAGS", "A8 UID STORE 5 +FLAGS (\\Seen)",
      "A9 UID COPY * INBOX", "B1 SEARCH 1:5", "B2 SEARCH *"],
     {"A3": "BAD", "A4": "BAD", "A5": "BAD", "A6": "BAD", "A7": "OK", "A8": "OK", "A9": "OK", "B1": "OK",
      "B2": "OK"}),
    ("9051-9 STORE item", "selected",
     ["A1 STORE 1 FOO (\\Seen)", "A2 STORE 1 +FLAGS", "A3 STORE 1 +FLAGS (\\Recent)"],
     {"A1": "BAD", "A2": "BAD", "A3": "BAD"}),
    ("9051-9 COPY without a mailbox", "selected", ["A1 COPY 1"], {"A1": "BAD"}),
    ("9051-9 SEARCH key", "selected", ["A1 SEARCH FOO", "A2 SEARCH SINCE 32-Jan-2020"],
     {"A1": "BAD", "A2": "BAD"}),
    ("9051-6.4.4 CHARSET", "selected",
     ["A4 SEARCH CHARSET UTF-8 SUBJECT {5}\r\ncaf\xc3\xa9", "A5 SEARCH CHARSET KOI8-R SUBJECT x"],
     {"A4": "OK", "A5": "NO"}),
    ("9051-9 NIL is an astring", "selected",
     ["A1 CREATE nil", 'A2 LIST "" nil', "A3 SEARCH SUBJECT NIL", "A4 SELECT nil"],
     {"A1": "OK", "A2": "OK", "A3": "OK", "A4": "OK"}),
    ("9051-9 LOGIN NIL NIL is a failed login", "none", ["A1 LOGIN NIL NIL"], {"A1": "NO"}),
    # RFC 3501 5.1.3: modified UTF-7
    ("3501-5.1.3 8-bit name without UTF8=ACCEPT", "auth", ["A1 CREATE {5}\r\ncaf\xc3\xa9"], {"A1": "BAD"}),
    # (a name that cannot be decoded names no mailbox: SELECT answers NO [NONEXISTENT], issue #9 1.4)
    ("3501-5.1.3 bad modified UTF-7", "auth",
     ['A1 CREATE "&Jjo!"', 'A2 CREATE "&U,BTFw-&ZeVnLIqe-"', 'A3 CREATE "&AGE-"', 'A4 SELECT "&Jjo!"',
      'A5 CREATE "a&AA0-b"'],
     {"A1": "BAD", "A2": "BAD", "A3": "BAD", "A4": "NO", "A5": "BAD"}),
    ("3501-5.1.3 good modified UTF-7", "auth", ['A1 CREATE "&U,BTF2XlZyyKng-"', 'A2 CREATE "a&-b"'],
     {"A1": "OK", "A2": "OK"}),
    ("3501-5.1.3 RENAME to bad modified UTF-7", "auth", ["A1 CREATE foo", 'A2 RENAME foo "&Jjo!"'],
     {"A1": "OK", "A2": "BAD"}),
    # framing
    ("9051-2.2 literal for an unknown command", "auth", ["A1 FOOBAR {3}\r\nabc"], {"A1": "BAD"}, ["+ "]),
    ("9051-2.2 literal for a command in the wrong state", "none", ["A1 APPEND INBOX {3}\r\nabc"],
     {"A1": "BAD"}, ["+ "]),
    ("9051-2.2 literal for LOGIN", "none", [f"A1 LOGIN {{{len(USER)}}}\r\n{USER} \"{PASSWORD}\""],
     {"A1": "OK"}),
    # extended SEARCH (RFC 4731, 4466 2.6.1, 5182, 7162 3.1.5)
    ("4466-2.6 unknown RETURN option", "selected", ["A1 SEARCH RETURN (FOO) ALL"], {"A1": "BAD"}),
    ("4466-2.6 RETURN without a list", "selected", ["A1 SEARCH RETURN MIN ALL"], {"A1": "BAD"}),
    ("4466-2.6 RETURN after CHARSET", "selected", ["A1 SEARCH CHARSET UTF-8 RETURN (MIN) ALL"], {"A1": "BAD"}),
    ("4466-2.6 RETURN without criteria", "selected", ["A1 SEARCH RETURN (MIN)"], {"A1": "BAD"}),
    ("5182-2.1 $ with sequence numbers", "selected", ["A1 SEARCH RETURN (SAVE) ALL", "A2 FETCH 1,$ FLAGS"],
     {"A1": "OK", "A2": "BAD"}),      # seq-set =/ seq-last-command: "$" stands alone
    ("7162-3.1.5 MODSEQ entry", "selected",
     ['A1 SEARCH MODSEQ "/flags/\\\\recent" all 1', 'A2 SEARCH MODSEQ "/flags/\\\\seen" any 1',
      "A3 SEARCH MODSEQ 9223372036854775808", 'A4 SEARCH MODSEQ "/flags/\\\\seen" all 1'],
     {"A1": "BAD", "A2": "BAD", "A3": "BAD", "A4": "OK"}),
    # CONTEXT=SEARCH (RFC 5267)
    ("5267-4.3 UPDATE twice", "selected", ["A1 SEARCH RETURN (UPDATE UPDATE) ALL"], {"A1": "BAD"}),
    ("5267-5 CANCELUPDATE grammar", "selected",
     ["A1 CANCELUPDATE", "A2 SEARCH RETURN (UPDATE) ALL", "A3 CANCELUPDATE A2", 'A4 CANCELUPDATE "Z9"'],
     {"A1": "BAD", "A2": "OK", "A3": "BAD", "A4": "NO"}),
    ("5267-5 CANCELUPDATE without a mailbox", "auth", ['A1 CANCELUPDATE "A1"'], {"A1": "BAD"}),
    # QRESYNC (RFC 7162 3.2.3, 3.2.5, 3.2.6, 7)
    ("7162-3.2.5 QRESYNC without ENABLE", "auth", ["A1 SELECT INBOX (QRESYNC (1 1))"], {"A1": "BAD"}),
    ("7162-3.2.6 VANISHED without ENABLE", "selected", ["A1 UID FETCH 1:* FLAGS (CHANGEDSINCE 1 VANISHED)"],
     {"A1": "BAD"}),
    ("7162-7 CHANGEDSINCE / UNCHANGEDSINCE values", "selected",
     ["A1 FETCH 1 FLAGS (CHANGEDSINCE 0)", 'A2 FETCH 1 FLAGS (CHANGEDSINCE "1")',
      "A3 FETCH 1 FLAGS (CHANGEDSINCE 9223372036854775807)", "A4 FETCH 1 FLAGS (CHANGEDSINCE 9223372036854775808)",
      'A5 STORE 1 (UNCHANGEDSINCE "0") +FLAGS (x)', "A6 STORE 1 (UNCHANGEDSINCE 0) +FLAGS (x)"],
     {"A1": "BAD", "A2": "BAD", "A3": "OK", "A4": "BAD", "A5": "BAD", "A6": "OK"}),
    ("7162-7 QRESYNC parameters", "qresync",
     ["A1 SELECT INBOX (QRESYNC)", "A2 EXAMINE INBOX (QRESYNC (1))", "A3 SELECT INBOX (QRESYNC (0 1))",
      "A4 SELECT INBOX (QRESYNC (4294967296 1))", "A5 SELECT INBOX (QRESYNC (1 0))",
      "A6 SELECT INBOX (QRESYNC (1 9223372036854775808))"],
     {f"A{i}": "BAD" for i in range(1, 7)}),
    ("7162-7 QRESYNC known UIDs and seq-match-data", "qresync",
     ["A7 SELECT INBOX (QRESYNC (1 1 1:*))", "A8 SELECT INBOX (QRESYNC (1 1 0:3))",
      "A9 SELECT INBOX (QRESYNC (1 1 1:3 (1:2 1:3)))", "B1 SELECT INBOX (QRESYNC (1 1 1:3 ()))",
      "B2 SELECT INBOX (QRESYNC (1 1) QRESYNC (1 1))", "B3 SELECT INBOX (QRESYNC (1 1 1:3 (1 1)) CONDSTORE)"],
     {"A7": "BAD", "A8": "BAD", "A9": "BAD", "B1": "BAD", "B2": "BAD", "B3": "OK"}),
    ("7162-3.2.6 VANISHED forms", "qresync selected",
     ["A1 FETCH 1:* FLAGS (CHANGEDSINCE 1 VANISHED)", "A2 UID FETCH 1:* FLAGS (VANISHED)",
      "A3 UID FETCH 1:* FLAGS (CHANGEDSINCE 1 VANISHED VANISHED)", "A4 UID FETCH 1:* FLAGS (CHANGEDSINCE 1 VANISHED)"],
     {"A1": "BAD", "A2": "BAD", "A3": "BAD", "A4": "OK"}),
    # LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819), SPECIAL-USE (RFC 6154)
    ("5258-3.1 RECURSIVEMATCH alone", "auth",
     ['A1 LIST (RECURSIVEMATCH) "" "*"', 'A2 LIST (REMOTE RECURSIVEMATCH) "" "*"',
      'A4 LIST (SUBSCRIBED REMOTE RECURSIVEMATCH) "" "*" RETURN ()'],
     {"A1": "BAD", "A2": "BAD", "A4": "OK"}),
    # (at most 9 BAD a connection: the 10th ends it, imap_session_private.h IMAP_MAX_BAD)
    ("5258-6 LIST selection options grammar", "auth",
     ['A1 LIST (FOO) "" "*"', 'A2 LIST "" "*" RETURN (FOO)', 'A3 LIST ("SUBSCRIBED") "" "*"',
      'A4 LIST (SUBSCRIBED (x)) "" "*"', 'A5 LIST "" "*" RETURN (CHILDREN (x))', 'A6 LIST "" ()',
      'A7 LIST "" (("INBOX"))', 'A8 LIST () ("INBOX") "*"', 'A9 LIST (SUBSCRIBED) ""'],
     {f"A{i}": "BAD" for i in range(1, 10)}),
    ("5258-6 LIST return options grammar", "auth",
     ['B1 LIST "" "*" RETURN', 'B2 LIST "" "*" RETURN CHILDREN', 'B3 LIST "" "*" RETURNS (CHILDREN)',
      'B4 LIST "" "*" RETURN (CHILDREN) x'],
     {f"B{i}": "BAD" for i in range(1, 5)}),
    ("5819-4 LIST RETURN (STATUS)", "auth",
     ['A1 LIST "" "*" RETURN (STATUS)', 'A2 LIST "" "*" RETURN (STATUS ())', 'A3 LIST "" "*" RETURN (STATUS (FOO))',
      'A4 LIST "" "*" RETURN (STATUS (MESSAGES SIZE))'],
     {"A1": "BAD", "A2": "BAD", "A3": "BAD", "A4": "OK"}),
    # COMPRESS (RFC 4978 5), UNAUTHENTICATE (RFC 8437 6), LITERAL- (RFC 7888)
    ("4978-5 COMPRESS grammar", "auth",
     ["A1 COMPRESS", "A2 COMPRESS GZIP", 'A3 COMPRESS "DEFLATE"', "A4 COMPRESS DEFLATE DEFLATE"],
     {"A1": "BAD", "A2": "BAD", "A3": "BAD", "A4": "BAD"}),
    ("4978-5 COMPRESS before login", "none", ["A1 COMPRESS DEFLATE"], {"A1": "BAD"}),
    ("8437-6 UNAUTHENTICATE", "selected", ["A1 UNAUTHENTICATE x", "A2 UNAUTHENTICATE"],
     {"A1": "BAD", "A2": "OK"}),
    # RFC 7888 4: the octets are on their way and cannot be skipped: BAD [TOOBIG], then BYE
    ("7888-4 non-synchronizing literal over 4096 octets before login", "none",
     ["A1 LOGIN {4097+}\r\n" + X + " pw"], {"A1": "BAD"}, [], "closes"),
    # UTF8=ACCEPT (RFC 6855 / RFC 9755 3)
    ("9755-3 CHARSET after ENABLE UTF8=ACCEPT", "utf8 selected",
     ["A1 SEARCH SUBJECT \"caf\xc3\xa9\""], {"A1": "OK"}),
    ("9755-3 invalid UTF-8 in a quoted string", "utf8", ['A1 CREATE "caf\xe9"'], {"A1": "BAD"}),
    ("9755-3 control characters in UTF-8 names", "utf8",
     ['A1 CREATE "a\xc2\x85b"', 'A2 CREATE "a\xe2\x80\xa8b"'], {"A1": "BAD", "A2": "BAD"}),
    ("9755-3 UTF-8 names", "utf8", ['A1 CREATE "caf\xc3\xa9"', 'A2 SELECT "caf\xc3\xa9"'],
     {"A1": "OK", "A2": "OK"}),
    ("9755-3 UTF-8 names need ENABLE", "auth", ['A1 CREATE "caf\xc3\xa9"'], {"A1": "BAD"}),
    # IMAP4rev2 (RFC 9051 Appendix E)
    # RFC 9051 Appendix E removes LSUB, CHECK, RFC822, NEW/OLD/RECENT from IMAP4rev2; a server
    # that speaks both keeps them after ENABLE IMAP4rev2 (not required to refuse them)
    ("9051-E the same in IMAP4rev1", "selected",
     ["A1 CHECK", 'A2 LSUB "" "*"', "A3 FETCH 1 RFC822", "A4 SEARCH NEW", "A5 STATUS INBOX (RECENT)"],
     {f"A{i}": "OK" for i in range(1, 6)}),
    ("9051-9 number64 only in IMAP4rev2", "selected",
     ["A1 FETCH 1 BODY.PEEK[]<4294967296.1>", "A2 FETCH 1 BODY.PEEK[]<0.4294967296>"], {"A1": "BAD", "A2": "BAD"}),
    ("9051-9 number64 in IMAP4rev2", "rev2 selected",
     ["A1 FETCH 1 BODY.PEEK[]<4294967296.1>", "A2 SEARCH LARGER 4294967296",
      "A3 SEARCH SMALLER 9223372036854775808", "A4 FETCH 1 BODY.PEEK[]<9223372036854775808.1>"],
     {"A1": "OK", "A2": "OK", "A3": "BAD", "A4": "BAD"}, ["<4294967295>"]),
    ("9051-5.1 mailbox names in NFC", "rev2", ['A1 CREATE "e\xcc\x81"', 'A2 CREATE "a\xc2\x85b"'],
     {"A1": "BAD", "A2": "BAD"}),
    # METADATA (RFC 5464 5 grammar, errata 2785: options before the mailbox; 3.2 entry names)
    ("5464-5 GETMETADATA grammar", "auth",
     ["A1 GETMETADATA INBOX", "A2 GETMETADATA INBOX ()", "A3 GETMETADATA () INBOX /shared/comment",
      "A4 GETMETADATA INBOX (MAXSIZE 10) /shared/comment", "A5 GETMETADATA (FOO 1) INBOX /shared/comment",
      "A6 GETMETADATA (MAXSIZE) INBOX /shared/comment", "A7 GETMETADATA (MAXSIZE -1) INBOX /shared/comment",
      'A8 GETMETADATA (MAXSIZE "10") INBOX /shared/comment', "A9 GETMETADATA (DEPTH 2) INBOX /shared"],
     {f"A{i}": "BAD" for i in range(1, 10)}),
    ("5464-5 GETMETADATA more grammar", "auth",
     ["B1 GETMETADATA (MAXSIZE 4294967296) INBOX /shared/comment", "B2 GETMETADATA (INBOX) /shared/comment",
      "B3 GETMETADATA INBOX ((/shared/comment))", "B4 GETMETADATA (DEPTH infinity) INBOX /shared",
      "B5 GETMETADATA INBOX (/shared /PRIVATE)"],
     {"B1": "BAD", "B2": "BAD", "B3": "BAD", "B4": "OK", "B5": "OK"}),
    ("5464-3.2 entry names", "auth",
     ["A1 GETMETADATA INBOX shared/comment", "A2 GETMETADATA INBOX /shared//comment",
      "A3 GETMETADATA INBOX /shared/comment/", 'A4 GETMETADATA INBOX "/shared/*"', 'A5 GETMETADATA INBOX "/shared/%"',
      "A6 GETMETADATA INBOX {9}\r\n/shared/\x01", "A7 GETMETADATA INBOX /comment",
      'A8 SETMETADATA INBOX (/shared "x")'],
     {f"A{i}": "BAD" for i in range(1, 9)}),
    ("5464-5 SETMETADATA grammar", "auth",
     ['A1 SETMETADATA INBOX /shared/comment "x"', "A2 SETMETADATA INBOX ()", "A3 SETMETADATA INBOX (/shared/comment)",
      "A4 SETMETADATA INBOX (/shared/comment value)", "A5 SETMETADATA INBOX (/shared/comment (x))",
      'A6 SETMETADATA INBOX ((/shared/comment) "x")', 'A7 SETMETADATA INBOX (/private/vendor/vendor.example/x "x")',
      "A8 SETMETADATA INBOX (/private/comment {4}\r\na\r\nb)", "A9 SETMETADATA INBOX (/private/comment ~{3}\r\na\nb)"],
     {"A1": "BAD", "A2": "BAD", "A3": "BAD", "A4": "BAD", "A5": "BAD", "A6": "BAD", "A7": "OK", "A8": "OK",
      "A9": "OK"}),
    ("5464-4 METADATA before login", "none",
     ['A1 GETMETADATA "" /shared/comment', 'A2 SETMETADATA "" (/shared/comment "x")'], {"A1": "BAD", "A2": "BAD"}),
    # PARTIAL (RFC 9394 3.1, 4)
    ("9394-3.1 PARTIAL with ALL, twice", "selected",
     ["A1 SEARCH RETURN (PARTIAL 1:5 ALL) ALL", "A2 SEARCH RETURN (PARTIAL 1:5 PARTIAL 6:9) ALL",
      "A3 SEARCH RETURN (ALL ALL) ALL", "A4 SEARCH RETURN (PARTIAL 1:5) ALL", "A5 SEARCH RETURN (PARTIAL -1:-5 COUNT) ALL"],
     {"A1": "BAD", "A2": "BAD", "A3": "BAD", "A4": "OK", "A5": "OK"}),
    ("9394-4 partial-range", "selected",
     ["A1 SEARCH RETURN (PARTIAL) ALL", "A2 SEARCH RETURN (PARTIAL 0:5) ALL", "A3 SEARCH RETURN (PARTIAL 1:*) ALL",
      "A4 SEARCH RETURN (PARTIAL -1:5) ALL", "A5 SEARCH RETURN (PARTIAL 5) ALL", 'A6 SEARCH RETURN (PARTIAL "1:5") ALL',
      "A7 SEARCH RETURN (PARTIAL 1:4294967296) ALL", "A8 UID FETCH 1:* FLAGS (PARTIAL 1:5 PARTIAL 1:2)",
      "A9 UID FETCH 1:* FLAGS (PARTIAL)"],
     {f"A{i}": "BAD" for i in range(1, 10)}),
    ("9394-3.3 PARTIAL fetch modifier", "selected", ["A1 UID FETCH 1:* (FLAGS) (PARTIAL -1:-30)"], {"A1": "OK"}),
    # NOTIFY (RFC 5465 3.1, 5, 6.1, 8)
    ("5465-8 NOTIFY grammar", "auth",
     ["A1 NOTIFY SET STATUS", "A2 NOTIFY NONE STATUS", "A3 NOTIFY SET (personal (MessageNew))",
      "A4 NOTIFY SET (selected (FlagChange))", "A5 NOTIFY SET (selected NONE) (selected-delayed NONE)",
      "A6 NOTIFY SET (selected (MailboxName))", "A7 NOTIFY SET (personal (MessageNew (UID) MessageExpunge))"],
     {f"A{i}": "BAD" for i in range(1, 8)}),
    ("5465-3.1 NOTIFY unsupported event", "auth",
     ["A1 NOTIFY SET (personal (AnnotationChange MessageNew MessageExpunge))"], {"A1": "NO"}),
    ("5465 NOTIFY SET and NONE", "selected",
     ["A1 NOTIFY SET STATUS (selected (MessageNew (UID) MessageExpunge FlagChange)) (personal (MailboxName))",
      "A2 NOTIFY NONE"], {"A1": "OK", "A2": "OK"}),
    ("5465 NOTIFY before login", "none", ["A1 NOTIFY NONE"], {"A1": "BAD"}),
    # UIDONLY (RFC 9586 3): nothing by sequence number, BAD [UIDREQUIRED]
    ("9586-3 sequence numbers refused", "uidonly selected",
     ["A1 FETCH 1 FLAGS", "A2 STORE 1 +FLAGS (\\Seen)", "A3 SEARCH ALL", "A4 COPY 1 INBOX", "A5 MOVE 1 INBOX",
      "A6 UID SEARCH 1", "A7 SORT (ARRIVAL) UTF-8 ALL", "A8 THREAD REFERENCES UTF-8 ALL"],
     {f"A{i}": "BAD" for i in range(1, 9)}, ["* 1 FETCH", "* SEARCH"]),
    ("9586-3 UID forms", "uidonly selected",
     ["A1 UID SEARCH UID 1", "A2 UID FETCH 1:* (FLAGS)", "A3 UID STORE 1 +FLAGS (\\Seen)", "A4 UID SEARCH ALL"],
     {"A1": "OK", "A2": "OK", "A3": "OK", "A4": "OK"}, [" FETCH ("]),
]


@pytest.fixture(scope="module")
def node(tmp_path_factory, binaries):
    """One node for every case (each case uses its own mailbox names)."""
    registry = []
    base = tmp_path_factory.mktemp("strict")

    def make(name, **kw):
        return Node(name, base / name, registry=registry, **kw)

    try:   # the node goes even when the setup fails
        n = imap_node(make)
        s = Conn(n)
        s.run(LOGIN)
        body = "Subject: hello\r\n\r\nWorld"
        assert s.run(f"S1 APPEND INBOX {{{len(body)}}}\r\n{body}") == "OK"
        s.close()
        yield n
    finally:
        for x in registry:
            x.kill9()


class Conn:
    def __init__(self, node):
        self.sock = socket.create_connection(("127.0.0.1", node.imap_port), timeout=20)
        self.buf = b""
        self.out = b""
        self._line()                      # greeting

    def _line(self):
        deadline = time.monotonic() + 20
        while b"\r\n" not in self.buf:
            assert time.monotonic() < deadline
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(self.out + self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        self.out += line + b"\r\n"
        return line

    def run(self, command):
        """Sends command (literals wait for "+"); returns its tagged result word."""
        data = command.encode("latin-1")
        tag = data.split(b" ", 1)[0]
        parts = re.split(rb"(\{\d+\}\r\n)", data)
        i = 0
        while True:
            chunk = parts[i] + (parts[i + 1] if i + 1 < len(parts) else b"")
            if i + 1 >= len(parts):
                self.sock.sendall(chunk + b"\r\n")
                break
            self.sock.sendall(chunk)
            while True:
                line = self._line()
                if line.startswith(b"+"):
                    break
                if line.startswith(tag + b" "):
                    return line.split(b" ")[1].decode()
            i += 2
        while True:
            line = self._line()
            if line.startswith(tag + b" "):
                return line.split(b" ")[1].decode()

    def close(self):
        self.sock.close()


def own_mailbox(node, index):
    """A mailbox holding one message, for case index."""
    box = f"Case{index}"
    c = Conn(node)
    try:
        assert c.run(LOGIN) == "OK"
        assert c.run(f"S1 CREATE {box}") == "OK", c.out
        body = "Subject: hello\r\n\r\nWorld"
        assert c.run(f"S2 APPEND {box} {{{len(body)}}}\r\n{body}") == "OK", c.out
    finally:
        c.close()
    return box


@pytest.mark.parametrize("index", range(len(CASES)), ids=[c[0] for c in CASES])
def test_strict(node, index):
    case = CASES[index]
    rule, state, commands, expected = case[:4]
    absent = case[4] if len(case) > 4 else []
    closes = len(case) > 5 and case[5] == "closes"
    box = own_mailbox(node, index) if "selected" in state else None
    c = Conn(node)
    got = {}
    try:
        for cmd in STATES[state]:
            assert c.run(cmd.format(box=box)) == "OK", (cmd, c.out)
        start = len(c.out)
        for cmd in commands:
            try:
                got[cmd.split(" ", 1)[0]] = c.run(cmd)
            except EOFError:
                assert closes, c.out
                got[cmd.split(" ", 1)[0]] = "EOF"
        if not closes:
            assert c.run("Z1 NOOP") == "OK", c.out    # still usable
        out = c.out[start:]
    finally:
        c.close()
    want = {t: w for t, w in expected.items()}
    assert {t: got.get(t) for t in want} == want, (got, out.decode("latin-1"))
    for s in absent:
        assert s.encode() not in out, out
