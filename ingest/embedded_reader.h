/* embedded_reader - the reader ops of the embedded log (see evlog.h). */
#ifndef EVM_EMBEDDED_READER_H
#define EVM_EMBEDDED_READER_H

#include "ingest/evlog_backend.h"

int emb_reader_open(struct evlog *log, struct evlog_reader **reader_r, const char **error_r);
int emb_reader_assign(struct evlog_reader *r, enum evm_topic_id topic, int32_t partition,
		      int64_t next_offset, const char **error_r);
int emb_reader_unassign_all(struct evlog_reader *r, const char **error_r);
int emb_reader_poll(struct evlog_reader *r, int timeout_ms, size_t max,
		    evlog_record_cb *cb, void *ctx, const char **error_r);
int emb_reader_end_offset(struct evlog_reader *r, enum evm_topic_id topic, int32_t partition,
			  int timeout_ms, int64_t *end_r, const char **error_r);
void emb_reader_close(struct evlog_reader *r);

#endif
