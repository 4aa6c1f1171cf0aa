/* jmap_mime_write - parts and bodies of jmap_mime_write.h: the transfer
 * encoding of each leaf (RFC 2045 6), multipart bodies with boundaries
 * that do not occur in their content (RFC 2046 5.1.1). */
#include "gateway/jmap/jmap_mime_write.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEPTH_MAX 64
/* RFC 2045 6.7 (5): encoded lines at most 76 characters. */
#define QP_LINE 76
/* Lines of a 7bit text body we leave as they are. */
#define PLAIN_LINE 78

enum cte {
	CTE_7BIT,
	CTE_8BIT,
	CTE_QP,
	CTE_BASE64,
};

/* Whether body has only CRLF line ends (and ends with one, or is empty),
 * no NUL, lines of at most max octets, and, when ascii, only ASCII. */
static int lines_ok(const char *b, size_t len, size_t max, int ascii)
{
	size_t line = 0;

	if (len > 0 && (len < 2 || b[len - 2] != '\r' || b[len - 1] != '\n'))
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)b[i];

		if (c == '\r') {
			if (i + 1 >= len || b[i + 1] != '\n')
				return 0;
			i++;
			line = 0;
			continue;
		}
		if (c == '\n' || c == '\0' || (ascii && c >= 0x80) || ++line > max)
			return 0;
	}
	return 1;
}

/* The encoding of a leaf: text that is already short ASCII lines stays
 * 7bit, other text is quoted-printable; a message/rfc822 whose lines
 * allow it is 7bit or 8bit (RFC 2046 5.2.1), else base64 (keeping a
 * broken message intact matters more); anything else is base64. */
static enum cte choose(const char *type, const char *b, size_t len)
{
	if (strncmp(type, "message/", 8) == 0) {
		if (lines_ok(b, len, JMAP_MIME_LINE_MAX, 1))
			return CTE_7BIT;
		return lines_ok(b, len, JMAP_MIME_LINE_MAX, 0) ? CTE_8BIT : CTE_BASE64;
	}
	if (strncmp(type, "text/", 5) == 0)
		return lines_ok(b, len, PLAIN_LINE, 1) ? CTE_7BIT : CTE_QP;
	return CTE_BASE64;
}

/* RFC 2045 6.7: CRLF stays a line break, everything else that is not
 * printable (or is '=', or white space before a break) becomes =XX, soft
 * breaks keep lines at 76; ends with a break. */
static void qp_encode(struct buf *out, const char *b, size_t len)
{
	size_t col = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)b[i];
		int brk = c == '\r' && i + 1 < len && b[i + 1] == '\n';
		int before_brk = i + 1 == len || (b[i + 1] == '\r' && i + 2 < len && b[i + 2] == '\n');
		char enc[4];
		size_t n;

		if (brk) {
			buf_puts(out, "\r\n");
			col = 0;
			i++;
			continue;
		}
		if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !before_brk)) {
			enc[0] = (char)c;
			n = 1;
		} else {
			snprintf(enc, sizeof enc, "=%02X", c);
			n = 3;
		}
		if (col + n > QP_LINE - 1) {
			buf_puts(out, "=\r\n");
			col = 0;
		}
		buf_append(out, enc, n);
		col += n;
	}
	if (col > 0)
		buf_puts(out, "=\r\n");
}

/* RFC 2045 6.8: lines of 76 characters. */
static void base64_encode(struct buf *out, const char *b, size_t len)
{
	unsigned char line[80];

	for (size_t i = 0; i < len; i += 57) {
		int n = EVP_EncodeBlock(line, (const unsigned char *)b + i, (int)(len - i < 57 ? len - i : 57));

		buf_append(out, line, (size_t)n);
		buf_puts(out, "\r\n");
	}
}

static int write_part(struct buf *out, const json_t *part, int depth, const char **error_r);

/* A boundary found in none of the children: derived from their content
 * (so the same message is written the same way) and checked. */
static void boundary_for(struct buf *kids, size_t n, char out[64])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int clash;

	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (size_t i = 0; i < n; i++)
		EVP_DigestUpdate(ctx, kids[i].data != NULL ? kids[i].data : "", kids[i].len);
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	for (unsigned counter = 0;; counter++) {
		snprintf(out, 64, "=_evm%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x_%u", md[0], md[1], md[2], md[3],
			 md[4], md[5], md[6], md[7], md[8], md[9], counter);
		clash = 0;
		for (size_t i = 0; i < n && !clash; i++)
			clash = kids[i].len > 0 && memmem(kids[i].data, kids[i].len, out, strlen(out)) != NULL;
		if (!clash)
			return;
	}
}

/* The header fields of part (Content-Type, -Disposition, -Transfer-
 * Encoding and its extra fields) and the blank line. */
static int part_header(struct buf *out, const json_t *part, const json_t *params, enum cte cte,
		       const char **error_r)
{
	const char *type = json_string_value(json_object_get(part, "type"));
	const char *disp = json_string_value(json_object_get(part, "disposition"));
	static const char *const names[] = { "7bit", "8bit", "quoted-printable", "base64" };
	const json_t *f;
	size_t i;

	if (jmap_mime_field_params(out, "Content-Type", type, params, error_r) < 0)
		return -1;
	if (disp != NULL &&
	    jmap_mime_field_params(out, "Content-Disposition", disp, json_object_get(part, "dparams"), error_r) < 0)
		return -1;
	if (cte != CTE_7BIT)
		buf_printf(out, "Content-Transfer-Encoding: %s\r\n", names[cte]);
	json_array_foreach(json_object_get(part, "fields"), i, f)
		buf_append(out, json_string_value(f), json_string_length(f));
	buf_puts(out, "\r\n");
	return 0;
}

static int write_multipart(struct buf *out, const json_t *part, int depth, const char **error_r)
{
	const json_t *kids = json_object_get(part, "parts"), *k;
	size_t n = json_array_size(kids), i;
	struct buf *bodies = xcalloc(n + 1, sizeof *bodies);
	json_t *params = json_deep_copy(json_object_get(part, "params"));
	char boundary[64];
	int ret = -1;

	if (params == NULL)
		params = json_object();
	json_array_foreach(kids, i, k)
		if (write_part(&bodies[i], k, depth + 1, error_r) < 0)
			goto out;
	boundary_for(bodies, n, boundary);
	json_object_set_new(params, "boundary", json_string(boundary));
	if (part_header(out, part, params, CTE_7BIT, error_r) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		buf_printf(out, "%s--%s\r\n", i == 0 ? "" : "\r\n", boundary);
		buf_append(out, bodies[i].data, bodies[i].len);
	}
	buf_printf(out, "%s--%s--\r\n", n == 0 ? "" : "\r\n", boundary);
	ret = 0;
out:
	for (i = 0; i < n; i++)
		buf_free(&bodies[i]);
	free(bodies);
	json_decref(params);
	return ret;
}

static int write_part(struct buf *out, const json_t *part, int depth, const char **error_r)
{
	const char *type = json_string_value(json_object_get(part, "type"));
	const json_t *body = json_object_get(part, "body");
	const char *b;
	size_t len;
	enum cte cte;

	if (depth > DEPTH_MAX) {
		*error_r = "the parts are nested too deeply";
		return -1;
	}
	if (type == NULL || strchr(type, '/') == NULL) {
		*error_r = "a part has no media type";
		return -1;
	}
	if (json_is_array(json_object_get(part, "parts")))
		return write_multipart(out, part, depth, error_r);
	b = body != NULL ? json_string_value(body) : "";
	len = body != NULL ? json_string_length(body) : 0;
	cte = choose(type, b, len);
	if (part_header(out, part, json_object_get(part, "params"), cte, error_r) < 0)
		return -1;
	if (cte == CTE_QP)
		qp_encode(out, b, len);
	else if (cte == CTE_BASE64)
		base64_encode(out, b, len);
	else
		buf_append(out, b, len);
	return 0;
}

int jmap_mime_write(struct buf *out, const json_t *fields, int mime_version, const json_t *part,
		    const char **error_r)
{
	const json_t *f;
	size_t i, start = out->len;

	json_array_foreach(fields, i, f)
		buf_append(out, json_string_value(f), json_string_length(f));
	if (mime_version)
		buf_puts(out, "MIME-Version: 1.0\r\n");
	if (write_part(out, part, 0, error_r) < 0) {
		buf_truncate(out, start);
		return -1;
	}
	return 0;
}
