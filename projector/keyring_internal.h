/* keyring_internal - the keyring's state and helpers shared by
 * keyring.c, keyring_event.c and the directory appliers of keys
 * (directory_keys.c). Not for use elsewhere. */
#ifndef EVM_KEYRING_INTERNAL_H
#define EVM_KEYRING_INTERNAL_H

#include <pthread.h>

#include "projector/keyring.h"

struct keyring_kek {
	char id[SEAL_KEK_ID_LEN + 1];
	unsigned char key[SEAL_KEY_LEN];
};

/* One entry of the DEK cache (open addressing by kid). */
struct keyring_slot {
	char kid[KEYRING_KID_LEN + 1];
	int state;
	unsigned char dek[SEAL_KEY_LEN];
};

struct keyring {
	struct keyring_kek *keks;   /* [0] the current KEK, then the old ones; read-only */
	size_t nkeks;
	pthread_mutex_t mu;         /* guards the cache */
	struct keyring_slot *slots;
	size_t cap, used;
};

/* 1 when kid is KEYRING_KID_LEN lower-case hex digits. */
int keyring_kid_valid(const char *kid);
/* 1 when wrapped is strict base64 of SEAL_KEY_LEN + SEAL_OVERHEAD octets. */
int keyring_wrapped_valid(const char *wrapped);
/* The DEK of kid (akey/<kid> names kek_id and holds wrapped): 0, 1 when the
 * wrapped key is malformed or does not authenticate (a bad record: the
 * same on every node), -1 when its KEK is not configured on this node. */
int keyring_dek(struct keyring *kr, const char *kid, const char *kek_id, const char *wrapped,
		unsigned char dek[SEAL_KEY_LEN], const char **error_r);
/* Drops kid's DEK from the cache (its key is erased or gone). */
void keyring_forget(struct keyring *kr, const char *kid);

#endif
