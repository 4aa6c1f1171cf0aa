/* smtp_data - see smtp_data.h */
#include "gateway/smtp/smtp_data.h"

#include <string.h>

enum {
	ST_BOL,       /* after CRLF (or at the start) */
	ST_DOT,       /* BOL + "." */
	ST_DOT_CR,    /* BOL + ".\r" */
	ST_TEXT,      /* inside a line */
	ST_CR,        /* inside a line, after CR */
};

void smtp_data_init(struct smtp_data *d, enum smtp_data_mode mode, struct buf *out,
		    size_t max_size, size_t max_line)
{
	memset(d, 0, sizeof *d);
	d->mode = mode;
	d->state = ST_BOL;
	d->out = out;
	d->max_size = max_size;
	d->max_line = max_line;
}

/* Appends content while under the limit; drops what was kept once over it. */
static void emit(struct smtp_data *d, const unsigned char *p, size_t n)
{
	d->size += n;
	if (d->too_big)
		return;
	if (d->size > d->max_size) {
		d->too_big = 1;
		buf_free(d->out);
		return;
	}
	buf_append(d->out, p, n);
}

/* Counts line lengths (the CRLF included). */
static void count_line(struct smtp_data *d, size_t n)
{
	d->line_len += n;
	if (d->line_len > d->max_line)
		d->line_too_long = 1;
}

int smtp_data_feed(struct smtp_data *d, const unsigned char *in, size_t len, size_t *consumed_r)
{
	static const unsigned char crlf[2] = { '\r', '\n' };
	size_t i = 0;

	while (i < len) {
		unsigned char c = in[i];

		switch (d->state) {
		case ST_BOL:
			d->line_len = 0;
			if (c == '.' && d->mode == SMTP_DATA_DOT) {
				count_line(d, 1);
				d->state = ST_DOT;
				i++;
				continue;
			}
			d->state = ST_TEXT;
			continue;
		case ST_DOT:
			if (c == '\r') {
				d->state = ST_DOT_CR;
				count_line(d, 1);
				i++;
				continue;
			}
			/* 4.5.2: the leading dot of a longer line is removed. */
			d->state = ST_TEXT;
			continue;
		case ST_DOT_CR:
			if (c == '\n') {
				*consumed_r = i + 1;
				return 1;
			}
			/* ".\r" + something else: the dot goes (4.5.2), the CR is bare. */
			d->bare_crlf = 1;
			emit(d, crlf, 1);
			d->state = ST_TEXT;
			continue;
		case ST_TEXT: {
			/* Fast path: copy the run up to the next CR or LF. */
			size_t j = i;
			while (j < len && in[j] != '\r' && in[j] != '\n')
				j++;
			if (j > i) {
				emit(d, in + i, j - i);
				count_line(d, j - i);
				i = j;
				continue;
			}
			count_line(d, 1);
			if (c == '\r') {
				d->state = ST_CR;
			} else {
				d->bare_crlf = 1;   /* LF without CR: never a line end */
				emit(d, &c, 1);
			}
			i++;
			continue;
		}
		case ST_CR:
			if (c == '\n') {
				count_line(d, 1);
				emit(d, crlf, 2);
				d->state = ST_BOL;
				i++;
				continue;
			}
			d->bare_crlf = 1;
			emit(d, crlf, 1);
			d->state = ST_TEXT;
			continue;
		}
	}
	*consumed_r = len;
	return 0;
}

void smtp_data_finish(struct smtp_data *d)
{
	if (d->state == ST_CR) {
		d->bare_crlf = 1;
		emit(d, (const unsigned char *)"\r", 1);
		d->state = ST_TEXT;
	}
}
