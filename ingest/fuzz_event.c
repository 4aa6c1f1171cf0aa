/* libFuzzer target: the strict event envelope decoder. Any input must give
 * a decoded event or an error, never a crash, leak or undefined behaviour;
 * a decoded event must re-encode and decode to the same fields. */
#include "ingest/event.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct evm_event ev, back;
	const char *error = NULL;
	char *s = NULL;
	size_t len = 0;

	if (evm_event_decode(data, size, &ev, &error) < 0)
		return 0;
	if (evm_event_encode(&ev, &s, &len, &error) == 0) {
		if (evm_event_decode(s, len, &back, &error) != 0 || strcmp(back.id, ev.id) != 0 ||
		    strcmp(back.type, ev.type) != 0 || back.ts != ev.ts)
			abort();
		evm_event_clear(&back);
		free(s);
	}
	evm_event_clear(&ev);
	return 0;
}
