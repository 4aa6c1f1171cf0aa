/* test_mime_units - tables for the pieces of the MIME parser: addresses,
 * dates, RFC 2047 words, RFC 2231 parameters, base subjects, charsets,
 * message-id lists and previews. */
#include "common/mime_internal.h"
#include "tests/unit/testlib.h"

#include <stdlib.h>

/* Compact, key-sorted JSON text (static until the next call in a slot). */
static const char *dump(int slot, json_t *j)
{
	static char *bufs[2];

	free(bufs[slot]);
	bufs[slot] = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	return bufs[slot];
}

static void test_addresses(void)
{
	static const struct { const char *in, *env, *hdr; } t[] = {
		{ "a@b.c", "[{\"adl\":null,\"host\":\"b.c\",\"mailbox\":\"a\",\"name\":null}]",
		  "[{\"email\":\"a@b.c\",\"name\":null}]" },
		{ "\"Doe, John\" <john@x.org>",
		  "[{\"adl\":null,\"host\":\"x.org\",\"mailbox\":\"john\",\"name\":\"Doe, John\"}]",
		  "[{\"email\":\"john@x.org\",\"name\":\"Doe, John\"}]" },
		{ "John  (the man)  Q. Public <jqp@x.org> (comment)",
		  "[{\"adl\":null,\"host\":\"x.org\",\"mailbox\":\"jqp\",\"name\":\"John Q. Public\"}]",
		  "[{\"email\":\"jqp@x.org\",\"name\":\"John Q. Public\"}]" },
		{ "<@route1,@route2:user@host.org>",
		  "[{\"adl\":null,\"host\":\"host.org\",\"mailbox\":\"user\",\"name\":null}]",
		  "[{\"email\":\"user@host.org\",\"name\":null}]" },
		{ "\"quoted local\"@x.org",
		  "[{\"adl\":null,\"host\":\"x.org\",\"mailbox\":\"\\\"quoted local\\\"\",\"name\":null}]",
		  "[{\"email\":\"\\\"quoted local\\\"@x.org\",\"name\":null}]" },
		{ "A Group: a@x.org, \"B\" <b@y.org>; c@z.org",
		  "[{\"adl\":null,\"host\":null,\"mailbox\":\"A Group\",\"name\":null},"
		  "{\"adl\":null,\"host\":\"x.org\",\"mailbox\":\"a\",\"name\":null},"
		  "{\"adl\":null,\"host\":\"y.org\",\"mailbox\":\"b\",\"name\":\"B\"},"
		  "{\"adl\":null,\"host\":null,\"mailbox\":null,\"name\":null},"
		  "{\"adl\":null,\"host\":\"z.org\",\"mailbox\":\"c\",\"name\":null}]",
		  "[{\"email\":\"a@x.org\",\"name\":null},{\"email\":\"b@y.org\",\"name\":\"B\"},"
		  "{\"email\":\"c@z.org\",\"name\":null}]" },
		{ "Empty:;", "[{\"adl\":null,\"host\":null,\"mailbox\":\"Empty\",\"name\":null},"
		  "{\"adl\":null,\"host\":null,\"mailbox\":null,\"name\":null}]", "[]" },
		{ "", "[]", "[]" },
		{ " , ,a@b , ", "[{\"adl\":null,\"host\":\"b\",\"mailbox\":\"a\",\"name\":null}]",
		  "[{\"email\":\"a@b\",\"name\":null}]" },
		{ "=?utf-8?q?J=C3=B6rg?= <j@x.de>",
		  "[{\"adl\":null,\"host\":\"x.de\",\"mailbox\":\"j\",\"name\":\"=?utf-8?q?J=C3=B6rg?=\"}]",
		  "[{\"email\":\"j@x.de\",\"name\":\"J\xc3\xb6rg\"}]" },
		{ "postmaster", "[{\"adl\":null,\"host\":\"\",\"mailbox\":\"postmaster\",\"name\":null}]",
		  "[{\"email\":\"postmaster\",\"name\":null}]" },
		{ "a@b c@d", "[{\"adl\":null,\"host\":\"b\",\"mailbox\":\"a\",\"name\":null},"
		  "{\"adl\":null,\"host\":\"d\",\"mailbox\":\"c\",\"name\":null}]",
		  "[{\"email\":\"a@b\",\"name\":null},{\"email\":\"c@d\",\"name\":null}]" },
		{ "<>", "[{\"adl\":null,\"host\":\"\",\"mailbox\":\"\",\"name\":null}]",
		  "[{\"email\":\"\",\"name\":null}]" },
		{ "x@[127.0.0.1]", "[{\"adl\":null,\"host\":\"[127.0.0.1]\",\"mailbox\":\"x\",\"name\":null}]",
		  "[{\"email\":\"x@[127.0.0.1]\",\"name\":null}]" },
		/* A comment after an addr-spec is its display name. */
		{ "carl@x.org (Carl  (the) \\) Q) , \"Real Name\" <u@d.org> (ignored)",
		  "[{\"adl\":null,\"host\":\"x.org\",\"mailbox\":\"carl\",\"name\":\"Carl (the) ) Q\"},"
		  "{\"adl\":null,\"host\":\"d.org\",\"mailbox\":\"u\",\"name\":\"Real Name\"}]",
		  "[{\"email\":\"carl@x.org\",\"name\":\"Carl (the) ) Q\"},{\"email\":\"u@d.org\",\"name\":\"Real Name\"}]" },
		{ "G: a@x.org (A), b@y.org;, c@z.org ()",
		  "[{\"adl\":null,\"host\":null,\"mailbox\":\"G\",\"name\":null},"
		  "{\"adl\":null,\"host\":\"x.org\",\"mailbox\":\"a\",\"name\":\"A\"},"
		  "{\"adl\":null,\"host\":\"y.org\",\"mailbox\":\"b\",\"name\":null},"
		  "{\"adl\":null,\"host\":null,\"mailbox\":null,\"name\":null},"
		  "{\"adl\":null,\"host\":\"z.org\",\"mailbox\":\"c\",\"name\":null}]",
		  "[{\"email\":\"a@x.org\",\"name\":\"A\"},{\"email\":\"b@y.org\",\"name\":null},"
		  "{\"email\":\"c@z.org\",\"name\":null}]" },
		{ "Unterminated <a@b", "[{\"adl\":null,\"host\":\"b\",\"mailbox\":\"a\",\"name\":\"Unterminated\"}]",
		  "[{\"email\":\"a@b\",\"name\":\"Unterminated\"}]" },
	};

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		json_t *env, *hdr;

		mime_address_parse(t[i].in, strlen(t[i].in), &env, &hdr);
		if (strcmp(dump(0, env), t[i].env) != 0 || strcmp(dump(1, hdr), t[i].hdr) != 0) {
			fprintf(stderr, "in: %s\n  env %s\n  hdr %s\n", t[i].in, dump(0, env), dump(1, hdr));
			test_fail(__FILE__, __LINE__, t[i].in);
		}
		json_decref(env);
		json_decref(hdr);
	}
}

static void test_dates(void)
{
	static const struct { const char *in; long long ms; } t[] = {
		{ "Thu, 1 Jan 1970 00:00:00 +0000", 0 },
		{ "Tue, 1 Aug 2023 12:00:00 +0200", 1690884000000LL },
		{ "1 Aug 2023 12:00 +0200", 1690884000000LL },               /* no weekday, no seconds */
		{ "Tue,  1 Aug 2023 10:00:00 GMT", 1690884000000LL },
		{ "Tue, 1 Aug 2023 10:00:00 UT", 1690884000000LL },
		{ "Tue, 1 Aug 2023 05:00:00 EST", 1690884000000LL },
		{ "Tue, 1 Aug 2023 06:00:00 EDT", 1690884000000LL },
		{ "Tue, 1 Aug 2023 03:00:00 PDT", 1690884000000LL },
		{ "Tue, 1 Aug 2023 10:00:00 Z", 1690884000000LL },
		{ "Tue, 1 Aug 2023 10:00:00 A", 1690884000000LL },           /* military -> 0 */
		{ "Tue, 1 Aug 2023 10:00:00", 1690884000000LL },             /* no zone */
		{ "1 aug 23 10:00:00 +0000", 1690884000000LL },              /* 2-digit year */
		{ "1 Aug 99 10:00:00 +0000", 933501600000LL },
		{ "1 Aug 123 10:00:00 +0000", 1690884000000LL },             /* 3-digit year */
		{ "Tue (day), 1 (one) Aug 2023 10 : 00 : 00 +0000 (UTC)", 1690884000000LL },
		{ "29 Feb 2024 00:00:00 +0000", 1709164800000LL },
		{ "31 Dec 1969 23:59:59 +0000", -1000 },
		{ "1 Aug 2023 10:00:00 -0130", 1690889400000LL },
		{ "29 Feb 2023 00:00:00 +0000", -1 },
		{ "32 Jan 2023 00:00:00 +0000", -1 },
		{ "1 Foo 2023 00:00:00 +0000", -1 },
		{ "1 Aug 2023 24:00:00 +0000", -1 },
		{ "1 Aug 2023 10:00:00 J", -1 },
		{ "1 Aug 2023 10:00:00 +01", -1 },
		{ "yesterday", -1 },
		{ "", -1 },
	};

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		int64_t ms = -1;
		int r = mime_date_parse(t[i].in, strlen(t[i].in), &ms);

		if ((t[i].ms == -1 && r != -1) || (t[i].ms != -1 && (r != 0 || ms != t[i].ms))) {
			fprintf(stderr, "date %s: r=%d ms=%lld\n", t[i].in, r, (long long)ms);
			test_fail(__FILE__, __LINE__, t[i].in);
		}
	}
}

static void test_rfc2047(void)
{
	static const struct { const char *in, *out; } t[] = {
		{ "plain text", "plain text" },
		{ "=?UTF-8?B?SGVsbG8=?=", "Hello" },
		{ "=?utf-8?q?a_b=3Dc?=", "a b=c" },
		{ "=?UTF-8?Q?a?= =?UTF-8?Q?b?=", "ab" },                       /* joined */
		{ "=?UTF-8?Q?a?=\t  =?UTF-8?Q?b?= c", "ab c" },
		{ "=?UTF-8?Q?a?= x =?UTF-8?Q?b?=", "a x b" },
		{ "x =?ISO-8859-1?Q?=E9t=E9?= y", "x \xc3\xa9t\xc3\xa9 y" },
		{ "=?iso-8859-15?q?=A4?=", "\xe2\x82\xac" },
		{ "=?windows-1252?Q?=80?=", "\xe2\x82\xac" },
		{ "=?KOI8-R?B?9MXT1A==?=", "\xd0\xa2\xd0\xb5\xd1\x81\xd1\x82" },
		{ "=?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=", "\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88" },
		/* a UTF-8 character split across two words */
		{ "=?UTF-8?B?w6k=?= =?UTF-8?B?4oI=?= =?UTF-8?B?rA==?=", "\xc3\xa9\xe2\x82\xac" },
		{ "=?UTF-8*en?Q?lang?=", "lang" },                               /* RFC 2231 5 */
		{ "=?utf-8?q?bad=ZZ?=", "=?utf-8?q?bad=ZZ?=" },                  /* bad Q */
		{ "=?utf-8?b?!!!?=", "=?utf-8?b?!!!?=" },                        /* bad B */
		{ "=?no-such-charset?q?x?=", "=?no-such-charset?q?x?=" },
		{ "=?utf-8?x?y?=", "=?utf-8?x?y?=" },
		{ "=?utf-8?q?unterminated", "=?utf-8?q?unterminated" },
		{ "=?UTF-8?B?/w==?=", "\xef\xbf\xbd" },                          /* invalid -> U+FFFD */
		{ "caf\xe9", "caf\xc3\xa9" },                                    /* 8-bit Latin-1 */
		{ "=?", "=?" },
		{ "=?=?=?", "=?=?=?" },
	};

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		char *o = mime_decode_header(t[i].in, strlen(t[i].in));

		if (strcmp(o, t[i].out) != 0) {
			fprintf(stderr, "2047 %s -> %s\n", t[i].in, o);
			test_fail(__FILE__, __LINE__, t[i].in);
		}
		free(o);
	}
}

static void test_rfc2231_params(void)
{
	static const struct { const char *in, *params; } t[] = {
		{ "text/plain; charset=\"UTF-8\"", "{\"charset\":\"UTF-8\"}" },
		{ "TEXT/Plain; CHARSET=us-ascii (comment); format=flowed",
		  "{\"charset\":\"us-ascii\",\"format\":\"flowed\"}" },
		{ "application/x; name*0=\"long \"; name*1=\"name\"; name*2=.txt",
		  "{\"name\":\"long name.txt\"}" },
		{ "application/x; name*=utf-8''%E2%82%AC%20rates", "{\"name\":\"\xe2\x82\xac rates\"}" },
		{ "application/x; name*0*=iso-8859-1'fr'caf%E9; name*1=\" au lait\"",
		  "{\"name\":\"caf\xc3\xa9 au lait\"}" },
		{ "application/x; name*1=b; name*0=a; name*3=d", "{\"name\":\"ab\"}" },  /* gap */
		{ "application/x; name=\"plain\"; name*=utf-8''wins", "{\"name\":\"wins\"}" },
		{ "application/x; a=1; a=2", "{\"a\":\"1\"}" },
		{ "application/x; name=\"=?UTF-8?B?w6k=?=.txt\"", "{\"name\":\"\xc3\xa9.txt\"}" },
		{ "application/x; q=\"a\\\"b\"", "{\"q\":\"a\\\"b\"}" },
		{ "multipart/mixed; boundary=----=_Part_1_2.3", "{\"boundary\":\"----=_Part_1_2.3\"}" },
		{ "text/plain; junk; charset=utf-8", "{\"charset\":\"utf-8\"}" },
		{ "application/x; name*0*=no-such-cs''%41", "{\"name\":\"A\"}" },
	};

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct mime_ctype ct;

		if (mime_content_type_parse(t[i].in, strlen(t[i].in), &ct) != 0) {
			test_fail(__FILE__, __LINE__, t[i].in);
			continue;
		}
		if (strcmp(dump(0, ct.params), t[i].params) != 0) {
			fprintf(stderr, "params %s -> %s\n", t[i].in, dump(0, ct.params));
			test_fail(__FILE__, __LINE__, t[i].in);
		}
		mime_ctype_free(&ct);
	}
	{
		struct mime_ctype ct;

		CHECK(mime_content_type_parse("text", 4, &ct) == -1);
		CHECK(mime_content_type_parse("/plain", 6, &ct) == -1);
		CHECK(mime_content_type_parse("TEXT / HTML", 11, &ct) == 0);
		CHECK_EQ_STR(ct.type, "text");
		CHECK_EQ_STR(ct.subtype, "html");
		mime_ctype_free(&ct);
	}
}

static void test_base_subject(void)
{
	static const struct { const char *in, *out; } t[] = {
		{ "Hello", "Hello" },
		{ "Re: Hello", "Hello" },
		{ "RE: re: Fwd: FW: Hello", "Hello" },
		{ "Re[2]: Hello", "Hello" },
		{ "Re [2] : Hello", "Hello" },
		{ "[list] Re: Hello", "Hello" },
		{ "[list] Hello", "Hello" },
		{ "[list]", "[list]" },
		{ "[a][b] [c] Re: [d] Hello", "Hello" },
		{ "Hello (fwd)", "Hello" },
		{ "Hello (FWD) (fwd)  ", "Hello" },
		{ "[Fwd: Re: Hello]", "Hello" },
		{ "Re: [Fwd: [list] Hello (fwd)]", "Hello" },
		{ "  Hello \t  world  ", "Hello world" },
		{ "Rest: not a reply", "Rest: not a reply" },
		{ "Re:", "" },
		{ "", "" },
		{ "Fwd:Fwd:Re:x", "x" },
		{ "[\xc3\xa9] Hello", "[\xc3\xa9] Hello" },                      /* BLOBCHAR is 7-bit */
	};

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		char *o = mime_base_subject(t[i].in);

		if (strcmp(o, t[i].out) != 0) {
			fprintf(stderr, "base subject '%s' -> '%s'\n", t[i].in, o);
			test_fail(__FILE__, __LINE__, t[i].in);
		}
		free(o);
	}
}

static void test_charsets(void)
{
	char *o;
	size_t n;

	CHECK(mime_to_utf8("ISO-8859-1", "caf\xe9", 4, &o, &n) == 0);
	CHECK_EQ_STR(o, "caf\xc3\xa9");
	CHECK_EQ_INT(n, 5);
	free(o);
	CHECK(mime_to_utf8("utf-8", "a\xff" "b", 3, &o, &n) == 0);
	CHECK_EQ_STR(o, "a\xef\xbf\xbd" "b");
	free(o);
	CHECK(mime_to_utf8("shift_jis", "\x83\x65\x83", 3, &o, &n) == 0);   /* truncated */
	CHECK_EQ_STR(o, "\xe3\x83\x86\xef\xbf\xbd");
	free(o);
	CHECK(mime_to_utf8("x-nonsense", "a", 1, &o, &n) == -1);
	CHECK(mime_to_utf8("UTF-8//TRANSLIT", "a", 1, &o, &n) == -1);
	CHECK(mime_to_utf8("", "a", 1, &o, &n) == -1);
}

static void test_msgids(void)
{
	static const struct { const char *in, *out; } t[] = {
		{ "<a@b>", "[\"a@b\"]" },
		{ "<a@b> <c@d>\t<e@f>", "[\"a@b\",\"c@d\",\"e@f\"]" },
		{ "(comment) <a@b> \"phrase\" <c@d>", "[\"a@b\",\"c@d\"]" },
		{ "< a @ b >", "[\"a@b\"]" },
		{ "bare@id.example", "[\"bare@id.example\"]" },
		{ "junk", "[]" },
		{ "<<<<<", "[]" },
		{ "", "[]" },
	};

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		json_t *a = mime_msgid_list(t[i].in, strlen(t[i].in));

		if (strcmp(dump(0, a), t[i].out) != 0) {
			fprintf(stderr, "msgid %s -> %s\n", t[i].in, dump(0, a));
			test_fail(__FILE__, __LINE__, t[i].in);
		}
		json_decref(a);
	}
}

static void test_previews(void)
{
	char long_text[2000];
	char *o;

	const char *html = "<p>a&lt;b&gt;c</p><!-- hidden --><br>d&#233;&#x20AC;"
			   "<style>x{}</style><SCRIPT>y</script>";

	o = mime_preview_make(html, strlen(html), "7bit", "utf-8", true);
	CHECK_EQ_STR(o, "a<b>c d\xc3\xa9\xe2\x82\xac");
	free(o);
	o = mime_preview_make("w6l0w6k=", 8, "base64", "utf-8", false);
	CHECK_EQ_STR(o, "\xc3\xa9t\xc3\xa9");
	free(o);
	o = mime_preview_make("caf=E9=\r\n au lait", 17, "quoted-printable", "iso-8859-1", false);
	CHECK_EQ_STR(o, "caf\xc3\xa9 au lait");
	free(o);
	memset(long_text, 'x', sizeof long_text);
	for (size_t i = 0; i < sizeof long_text; i += 2)
		long_text[i] = ' ';
	o = mime_preview_make(long_text, sizeof long_text, "7bit", NULL, false);
	CHECK_EQ_INT(strlen(o), MIME_PREVIEW_CHARS);
	CHECK(o[0] == 'x' && o[1] == ' ');
	free(o);
	o = mime_preview_make("\xc3\xa9\xc3\xa9\xc3\xa9", 6, "8bit", "utf-8", false);
	CHECK_EQ_STR(o, "\xc3\xa9\xc3\xa9\xc3\xa9");
	free(o);
}

/* mime_transfer_decode: RFC 2045 6.7 and 6.8, leniently. */
static void test_transfer(void)
{
	static const struct { const char *enc, *in, *want; } cases[] = {
		{ "quoted-printable", "caf=E9 =3d x", "caf\xe9 = x" },
		{ "quoted-printable", "soft=\r\nbreak", "softbreak" },
		{ "quoted-printable", "soft= \t\nbreak", "softbreak" },
		/* rule 3: whitespace before a line break or the end is dropped */
		{ "quoted-printable", "end  \r\nnext\t", "end\r\nnext" },
		{ "Quoted-Printable", "a=zz=4", "a=zz=4" },       /* stray '=' kept */
		{ "quoted-printable", "x=", "x" },                /* '=' at the end */
		{ "base64", "aGVs bG8=\r\nignored", "hello" },     /* stops at '=' */
		{ "BASE64", "a*G!V-s_bG8", "hello" },             /* junk skipped */
		{ "7bit", "as =3D is", "as =3D is" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct buf out = BUF_INIT;

		mime_transfer_decode(cases[i].enc, cases[i].in, strlen(cases[i].in), &out);
		buf_append(&out, "", 1);
		CHECK_EQ_STR(out.data, cases[i].want);
		buf_free(&out);
	}
}

int main(void)
{
	test_run("addresses", test_addresses);
	test_run("dates", test_dates);
	test_run("rfc2047", test_rfc2047);
	test_run("rfc2231 params", test_rfc2231_params);
	test_run("base subject", test_base_subject);
	test_run("charsets", test_charsets);
	test_run("message ids", test_msgids);
	test_run("previews", test_previews);
	test_run("transfer encodings", test_transfer);
	return test_done();
}
