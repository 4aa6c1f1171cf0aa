/* imap_parser_args - the per-command arena and the argument-tree builder
 * of the IMAP parser (see imap_parser_private.h). */
#include "gateway/imap/imap_parser_private.h"
#include "common/log.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK 4096
#define ARENA_ALIGN alignof(max_align_t)

struct imap_arena_block {
	struct imap_arena_block *next;
	size_t used, cap;
	alignas(max_align_t) char data[];
};

struct imap_arena_adopted {
	struct imap_arena_adopted *next;
	void *ptr;
};

/* size octets of aligned memory that lives until imap_arena_clear. */
void *imap_arena_alloc(struct imap_arena *a, size_t size)
{
	struct imap_arena_block *b = a->blocks;
	size_t need = size == 0 ? ARENA_ALIGN : size;

	if (need > SIZE_MAX - ARENA_ALIGN - sizeof *b)
		log_panic("imap arena: allocation of %zu octets overflows", size);
	need = (need + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	if (b == NULL || b->cap - b->used < need) {
		size_t cap = need > ARENA_BLOCK ? need : ARENA_BLOCK;

		b = xmalloc(sizeof *b + cap);
		b->used = 0;
		b->cap = cap;
		if (a->blocks != NULL && need > ARENA_BLOCK) {
			/* A big one-off: keep filling the current small block. */
			b->next = a->blocks->next;
			a->blocks->next = b;
		} else {
			b->next = a->blocks;
			a->blocks = b;
		}
	}
	b->used += need;
	return b->data + b->used - need;
}

/* A NUL-terminated copy of len octets (which may hold NULs). */
char *imap_arena_strndup(struct imap_arena *a, const char *s, size_t len)
{
	char *p = imap_arena_alloc(a, len + 1);

	if (len > 0)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* Takes ownership of a malloc'ed pointer. */
void imap_arena_adopt(struct imap_arena *a, void *ptr)
{
	struct imap_arena_adopted *ad = imap_arena_alloc(a, sizeof *ad);

	ad->ptr = ptr;
	ad->next = a->adopted;
	a->adopted = ad;
}

/* Frees everything the arena holds. */
void imap_arena_clear(struct imap_arena *a)
{
	for (struct imap_arena_adopted *ad = a->adopted; ad != NULL; ad = ad->next)
		free(ad->ptr);
	a->adopted = NULL;
	while (a->blocks != NULL) {
		struct imap_arena_block *next = a->blocks->next;

		free(a->blocks);
		a->blocks = next;
	}
}

/* The vector of the current level, allocating levels as lists open. */
static struct imap_arg_level *current_level(struct imap_arg_builder *b)
{
	if (b->depth >= b->nlevels) {
		size_t n = b->nlevels == 0 ? 4 : b->nlevels * 2;

		while (n <= b->depth)
			n *= 2;
		b->levels = xrealloc(b->levels, n * sizeof *b->levels);
		memset(b->levels + b->nlevels, 0, (n - b->nlevels) * sizeof *b->levels);
		b->nlevels = n;
	}
	return &b->levels[b->depth];
}

/* Appends a zeroed argument of the given type at the current depth. */
struct imap_arg *imap_args_add(struct imap_arg_builder *b, enum imap_arg_type type)
{
	struct imap_arg_level *l = current_level(b);
	struct imap_arg *arg;

	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 8 : l->cap * 2;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	arg = &l->v[l->n++];
	memset(arg, 0, sizeof *arg);
	arg->type = type;
	b->total++;
	return arg;
}

/* Adds a LIST argument and descends into it. */
void imap_args_open(struct imap_arg_builder *b)
{
	imap_args_add(b, IMAP_ARG_LIST);
	b->depth++;
	current_level(b)->n = 0;
}

/* Copies a level's arguments into the arena. */
static struct imap_arg *level_copy(struct imap_arg_level *l, struct imap_arena *a)
{
	struct imap_arg *v;

	if (l->n == 0)
		return NULL;
	v = imap_arena_alloc(a, l->n * sizeof *v);
	memcpy(v, l->v, l->n * sizeof *v);
	return v;
}

/* Closes the innermost list and stores it in its LIST argument. */
void imap_args_close(struct imap_arg_builder *b, struct imap_arena *a)
{
	struct imap_arg_level *l = &b->levels[b->depth], *parent;
	struct imap_arg *list;

	if (b->depth == 0)
		log_panic("imap_args_close without an open list");
	parent = &b->levels[--b->depth];
	list = &parent->v[parent->n - 1];
	list->list = level_copy(l, a);
	list->count = l->n;
	l->n = 0;
}

/* The finished top-level argument vector. */
struct imap_arg *imap_args_finish(struct imap_arg_builder *b, struct imap_arena *a, size_t *n_r)
{
	struct imap_arg_level *l = current_level(b);

	*n_r = l->n;
	return level_copy(l, a);
}

/* Forgets the arguments (the vectors keep their capacity). */
void imap_args_clear(struct imap_arg_builder *b)
{
	for (size_t i = 0; i < b->nlevels; i++)
		b->levels[i].n = 0;
	b->depth = 0;
	b->total = 0;
}

/* Frees the builder's vectors. */
void imap_args_free(struct imap_arg_builder *b)
{
	for (size_t i = 0; i < b->nlevels; i++)
		free(b->levels[i].v);
	free(b->levels);
	memset(b, 0, sizeof *b);
}
