/* view_wbwi - a write batch's merged iterator bounded above, the one
 * RocksDB call its C API lacks in Debian 12's RocksDB 7.8.
 *
 * rocksdb_writebatch_wi_create_iterator_with_base gives the batch's
 * iterator no ReadOptions, so its upper bound is unknown to the part that
 * merges the batch's own entries: once the view's iterator reached the
 * bound, each Seek or Next walked every entry the batch DELETED after it
 * (RocksDB's BaseDeltaIterator::UpdateCurrent skips deletions one by one,
 * and stops early only with iterate_upper_bound). An event that expunged
 * 1,000 messages made its own "anything left under this prefix?" scans
 * cost O(batch): 9,000 expunges in a 10,000-message mailbox took 36 s to
 * apply. RocksDB 8.x added ..._with_base_readopts to the C API; this is
 * that call, in C++ (view_wbwi.cc). */
#ifndef EVM_VIEW_WBWI_H
#define EVM_VIEW_WBWI_H

#include <rocksdb/c.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The batch's entries over base (an iterator of db, which it takes over),
 * stopping at upper (ulen octets; ulen 0: no bound). upper is not copied:
 * it must outlive the iterator, like *bound_r, which view_wbwi_bound_free
 * frees once the iterator is destroyed. */
rocksdb_iterator_t *view_wbwi_iterator(rocksdb_t *db, rocksdb_writebatch_wi_t *wb, rocksdb_iterator_t *base,
				       const char *upper, size_t ulen, void **bound_r);
void view_wbwi_bound_free(void *bound);

#ifdef __cplusplus
}
#endif

#endif
