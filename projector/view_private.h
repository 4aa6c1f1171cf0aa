/* view_private - struct view and the helpers the view's files share
 * (view.c: open, reads, scans, batches; view_maint.c: the bulk-apply
 * marker, checkpoints, the digest). Not for other modules. */
#ifndef EVM_VIEW_PRIVATE_H
#define EVM_VIEW_PRIVATE_H

#include <pthread.h>
#include <rocksdb/c.h>

#include "projector/view.h"

struct view {
	char *path;
	rocksdb_t *db;
	rocksdb_options_t *opts;
	rocksdb_block_based_table_options_t *tbl;
	rocksdb_readoptions_t *ropts;
	rocksdb_writeoptions_t *wopts;
	rocksdb_writeoptions_t *wopts_bulk;   /* no WAL: see view_bulk_begin */
	rocksdb_writeoptions_t *wopts_sync;   /* the bulk marker's writes */
	int bulk;                  /* __atomic: commits use wopts_bulk */
	/* Readers hold it shared; view_wipe holds it exclusive while the
	 * database is closed, destroyed and reopened. */
	pthread_rwlock_t lock;
	int write_failed;          /* a write failed once (e.g. ENOSPC): see view_close */
	size_t write_buffer_bytes; /* the memtable size asked for (0: RocksDB's default) */
	struct blob_store *blob_store;   /* __atomic; view_set_blob_store */
};

/* RocksDB's message err (freed) after what, as thread-local text. */
const char *view_rocks_error(const char *what, char *err);
/* view_sorted.c: the batch's latest write of each key, in key order (a
 * faster memtable insert, the same view); the caller destroys it. NULL
 * when the batch holds other writes than puts and deletes. */
rocksdb_writebatch_t *view_sorted_batch(rocksdb_writebatch_wi_t *wb);
/* Takes the shared lock; fails (unlocked) if a failed wipe left no database. */
int view_lock_open(struct view *view, const char **error_r);

#endif
