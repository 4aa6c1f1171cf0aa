/* view_wbwi - see view_wbwi.h. The C API's handles are structs of one
 * pointer (db/c.cc: rocksdb_t, rocksdb_writebatch_wi_t,
 * rocksdb_iterator_t, unchanged since RocksDB 5); this file completes
 * those types to reach the C++ objects, as RocksDB 8's own
 * rocksdb_writebatch_wi_create_iterator_with_base_readopts does inside
 * c.cc. test_view.c checks the merged iterator against the batch and the
 * view, with deletions past the bound. */
#include "projector/view_wbwi.h"

#include <new>
#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/utilities/write_batch_with_index.h>

struct rocksdb_t {
	rocksdb::DB *rep;
};
struct rocksdb_writebatch_wi_t {
	rocksdb::WriteBatchWithIndex *rep;
};
struct rocksdb_iterator_t {
	rocksdb::Iterator *rep;
};

extern "C" rocksdb_iterator_t *view_wbwi_iterator(rocksdb_t *db, rocksdb_writebatch_wi_t *wb,
						  rocksdb_iterator_t *base, const char *upper, size_t ulen,
						  void **bound_r)
{
	rocksdb::ReadOptions ro;
	rocksdb::Slice *bound = ulen > 0 ? new rocksdb::Slice(upper, ulen) : nullptr;
	rocksdb_iterator_t *it = new rocksdb_iterator_t;

	/* The BaseDeltaIterator keeps the Slice's address, not ro. */
	ro.iterate_upper_bound = bound;
	it->rep = wb->rep->NewIteratorWithBase(db->rep->DefaultColumnFamily(), base->rep, &ro);
	delete base;   /* its Iterator now belongs to it->rep */
	*bound_r = bound;
	return it;
}

extern "C" void view_wbwi_bound_free(void *bound)
{
	delete static_cast<rocksdb::Slice *>(bound);
}
