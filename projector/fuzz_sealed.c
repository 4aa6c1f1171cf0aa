/* fuzz_sealed - libFuzzer target for opening sealed events
 * (keyring_open_event): an event record from the log whose data may hold
 * a "sealed" object of any shape.
 *
 * The view holds one data key (kid 0123..cdef, a fixed DEK wrapped under
 * a fixed KEK), and one erased kid (fedc..3210), so the fuzzer can reach
 * the opening itself. Besides not crashing, checks the result contract:
 * -1 only as KEYRING_INVALID (this node has its keys and a working view),
 * an opened event's data is an object again, and anything else leaves
 * the event as it was. */
#include "projector/keyring.h"
#include "projector/keys.h"
#include "common/base64.h"
#include "common/log.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KID "0123456789abcdef0123456789abcdef"
#define ERASED_KID "fedcba9876543210fedcba9876543210"

static struct keyring *kr;
static struct view *view;

static void check(int cond)
{
	if (!cond)
		abort();
}

/* The KEK file, the keyring and the view, once. */
static void setup(void)
{
	static const char kek_hex[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
	unsigned char kek[SEAL_KEY_LEN], dek[SEAL_KEY_LEN];
	char dir[] = "/tmp/fuzz_sealed.XXXXXX", path[64], kek_id[SEAL_KEK_ID_LEN + 1], *b64, *rec;
	struct buf aad = BUF_INIT, wrapped = BUF_INIT;
	struct evm_config cfg;
	struct view_batch *b;
	const char *error = NULL;
	int fd;

	log_set_level(LOG_ERROR);
	check(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/kek", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	check(fd >= 0 && write(fd, kek_hex, sizeof kek_hex - 1) == (ssize_t)(sizeof kek_hex - 1));
	close(fd);
	check(config_load(NULL, &cfg, &error) == 0);
	check(config_set(&cfg, "crypto.master_key_file", path, &error) == 0);
	check(keyring_open(&cfg, &kr, &error) == 0 && kr != NULL);
	check(seal_kek_load(path, kek, kek_id, &error) == 0);
	config_free(&cfg);
	memset(dek, 0x5a, sizeof dek);
	buf_append(&aad, "evmail-dek", sizeof "evmail-dek");
	buf_puts(&aad, KID);
	check(seal_close(kek, aad.data, aad.len, dek, sizeof dek, &wrapped, &error) == 0);
	b64 = evm_b64_encode((const unsigned char *)wrapped.data, wrapped.len);
	snprintf(path, sizeof path, "%s/view", dir);
	check(view_open(path, &view, &error) == 0);
	b = view_batch_begin(view);
	rec = NULL;
	check(asprintf(&rec, "{\"account\":\"a@x.test\",\"event\":\"e\",\"kek\":\"%s\",\"wrapped\":\"%s\"}",
		       kek_id, b64) > 0);
	view_batch_put(b, KEY_AKEY KID, strlen(KEY_AKEY KID), rec, strlen(rec));
	view_batch_put(b, KEY_AKEYX ERASED_KID, strlen(KEY_AKEYX ERASED_KID), "a@x.test", 8);
	check(view_batch_commit(&b, &error) == 0);
	free(rec);
	free(b64);
	buf_free(&aad);
	buf_free(&wrapped);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum keyring_open_result res = KEYRING_PLAIN;
	const char *error = NULL;
	struct evm_event ev;
	char *before;
	int r;

	if (view == NULL)
		setup();
	if (evm_event_decode(data, size, &ev, &error) < 0)
		return 0;
	before = json_dumps(ev.data, JSON_COMPACT | JSON_SORT_KEYS);
	r = keyring_open_event(kr, view, &ev, &res, &error);
	check(r == 0 || (r == -1 && res == KEYRING_INVALID && error != NULL));
	check(json_is_object(ev.data));
	if (res != KEYRING_OPENED) {
		char *after = json_dumps(ev.data, JSON_COMPACT | JSON_SORT_KEYS);
		check(strcmp(before, after) == 0);
		free(after);
	}
	free(before);
	evm_event_clear(&ev);
	return 0;
}
