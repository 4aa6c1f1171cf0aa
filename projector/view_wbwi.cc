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
#include <string>

struct rocksdb_t {
	rocksdb::DB *rep;
};
struct rocksdb_writebatch_wi_t {
	rocksdb::WriteBatchWithIndex *rep;
};
struct rocksdb_iterator_t {
	rocksdb::Iterator *rep;
};

namespace {
/* The bound's bytes and the Slice BaseDeltaIterator points at: both must
 * outlive the iterator. */
struct wbwi_bound {
	std::string bytes;
	rocksdb::Slice slice;
};
}

extern "C" rocksdb_iterator_t *view_wbwi_iterator(rocksdb_t *db, rocksdb_writebatch_wi_t *wb,
						  rocksdb_iterator_t *base, const char *upper, size_t ulen,
						  void **bound_r)
{
	rocksdb::ReadOptions ro;
	wbwi_bound *bound = nullptr;
	rocksdb_iterator_t *it = new rocksdb_iterator_t;

	if (ulen > 0) {
		bound = new wbwi_bound;
		bound->bytes.assign(upper, ulen);
		bound->slice = rocksdb::Slice(bound->bytes);
		ro.iterate_upper_bound = &bound->slice;
	}
	/* The BaseDeltaIterator keeps the bound's pointer, not ro. */
	it->rep = wb->rep->NewIteratorWithBase(db->rep->DefaultColumnFamily(), base->rep, &ro);
	delete base;   /* its Iterator now belongs to it->rep */
	*bound_r = bound;
	return it;
}

extern "C" void view_wbwi_bound_free(void *bound)
{
	delete static_cast<wbwi_bound *>(bound);
}
