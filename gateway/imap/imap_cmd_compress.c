/* imap_cmd_compress - COMPRESS=DEFLATE (RFC 4978): after "<tag> OK DEFLATE
 * active" both directions are one raw deflate stream each (RFC 1951, zlib
 * windowBits -15). It is a layer in the session's I/O: a libevent filter
 * bufferevent pushed over the connection (plain or TLS, conn_push_filter), so the
 * parser and the writers are unchanged.
 *
 * Output is flushed (Z_SYNC_FLUSH) whenever the filter runs; the filter's
 * output buffer runs its callbacks from the loop, so the responses written
 * in one turn of the loop are flushed together (RFC 4978 4: a server
 * SHOULD flush at the end of each response). Input is inflated in small
 * steps and stops at the session's read watermark, so a small compressed
 * burst cannot make a huge buffer. */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_session_util.h"
#include "gateway/imap/imap_commands.h"
#include "common/log.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <stdlib.h>
#include <strings.h>
#include <zlib.h>

#define Z_CHUNK_IN 1024          /* compressed octets per inflate step */
#define Z_CHUNK_OUT 16384

struct zlayer {
	z_stream in, out;
};

/* Frees the zlib state with the filter. */
static void zlayer_free(void *ctx)
{
	struct zlayer *z = ctx;

	inflateEnd(&z->in);
	deflateEnd(&z->out);
	free(z);
}

/* Reserves room in dst and points strm's output at it. */
static int reserve(struct evbuffer *dst, struct evbuffer_iovec *v, z_stream *strm)
{
	if (evbuffer_reserve_space(dst, Z_CHUNK_OUT, v, 1) < 1)
		return -1;
	if (v->iov_len > Z_CHUNK_OUT)
		v->iov_len = Z_CHUNK_OUT;
	strm->next_out = v->iov_base;
	strm->avail_out = (uInt)v->iov_len;
	return 0;
}

/* Client to server: inflate up to limit octets (more only to empty what
 * one step produced). */
static enum bufferevent_filter_result z_input(struct evbuffer *src, struct evbuffer *dst,
					      ev_ssize_t limit, enum bufferevent_flush_mode mode, void *ctx)
{
	struct zlayer *z = ctx;
	size_t produced = 0;

	while (evbuffer_get_length(src) > 0 && (limit < 0 || produced < (size_t)limit)) {
		struct evbuffer_iovec in, out;
		size_t n, before;

		if (evbuffer_peek(src, -1, NULL, &in, 1) < 1 || in.iov_len == 0)
			break;
		n = in.iov_len < Z_CHUNK_IN ? in.iov_len : Z_CHUNK_IN;
		z->in.next_in = in.iov_base;
		z->in.avail_in = (uInt)n;
		do {
			int r;

			if (reserve(dst, &out, &z->in) < 0)
				return BEV_ERROR;
			before = z->in.avail_in;
			r = inflate(&z->in, Z_SYNC_FLUSH);
			if (r != Z_OK && r != Z_BUF_ERROR)
				return BEV_ERROR;       /* corrupt, or the stream ended */
			out.iov_len -= z->in.avail_out;
			produced += out.iov_len;
			evbuffer_commit_space(dst, &out, 1);
			if (out.iov_len == 0 && before == z->in.avail_in)
				break;
		} while (z->in.avail_out == 0 || z->in.avail_in > 0);
		evbuffer_drain(src, n - z->in.avail_in);
	}
	return produced > 0 ? BEV_OK : BEV_NEED_MORE;
}

/* Server to client: deflate everything, then a sync flush. */
static enum bufferevent_filter_result z_output(struct evbuffer *src, struct evbuffer *dst,
					       ev_ssize_t limit, enum bufferevent_flush_mode mode, void *ctx)
{
	struct zlayer *z = ctx;

	if (evbuffer_get_length(src) == 0)
		return BEV_NEED_MORE;
	while (evbuffer_get_length(src) > 0) {
		struct evbuffer_iovec in, out;
		int last;

		if (evbuffer_peek(src, -1, NULL, &in, 1) < 1)
			return BEV_ERROR;
		last = in.iov_len == evbuffer_get_length(src);
		z->out.next_in = in.iov_base;
		z->out.avail_in = (uInt)in.iov_len;
		do {
			if (reserve(dst, &out, &z->out) < 0 ||
			    deflate(&z->out, last ? Z_SYNC_FLUSH : Z_NO_FLUSH) == Z_STREAM_ERROR)
				return BEV_ERROR;
			out.iov_len -= z->out.avail_out;
			evbuffer_commit_space(dst, &out, 1);
		} while (z->out.avail_out == 0 || z->out.avail_in > 0);
		evbuffer_drain(src, in.iov_len);
	}
	return BEV_OK;
}

/* Puts the deflate layer over the connection (gateway/conn/conn.h). 0 or -1. */
static int compress_start(struct imap_session *s)
{
	struct zlayer *z = xcalloc(1, sizeof *z);

	if (inflateInit2(&z->in, -15) != Z_OK) {
		free(z);
		return -1;
	}
	if (deflateInit2(&z->out, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		inflateEnd(&z->in);
		free(z);
		return -1;
	}
	if (conn_push_filter(s->conn, z_input, z_output, z, zlayer_free) < 0)
		return -1;   /* z freed */
	/* one sync flush per turn of the loop, not per write */
	evbuffer_defer_callbacks(conn_output(s->conn), s->base);
	return 0;
}

/* RFC 4978 3: COMPRESS DEFLATE; NO [COMPRESSIONACTIVE] the second time. */
void imap_cmd_compress(struct imap_session *s, const struct imap_command *cmd)
{
	const char *alg;

	if (cmd->nargs != 1 || cmd->args[0].type != IMAP_ARG_ATOM || (alg = imap_arg_str(&cmd->args[0])) == NULL) {
		imap_bad(s, "COMPRESS needs an algorithm");
		return;
	}
	if (s->compress) {
		imap_no(s, "[COMPRESSIONACTIVE] DEFLATE is already active");
		return;
	}
	if (strcasecmp(alg, "DEFLATE") != 0) {
		imap_bad(s, "Unknown compression algorithm");
		return;
	}
	s->reply_now = 1;   /* the OK goes out uncompressed, now (RFC 4978 3) */
	imap_ok(s, "DEFLATE active");
	if (s->conn == NULL || s->closing)
		return;
	if (compress_start(s) < 0) {
		log_error("imap[%s]: cannot start DEFLATE", s->id);
		imap_close_after_flush(s, "COMPRESS failed");
		return;
	}
	s->compress = 1;
	log_debug("imap[%s]: COMPRESS=DEFLATE active", s->id);
}
