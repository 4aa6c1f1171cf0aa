/* fuzz_mime_forms - libFuzzer target for the JMAP header forms and the
 * header field list (common/mime_forms.h): every form of the input as a
 * raw value, and the input as a header block; aborts if a result cannot
 * be encoded as JSON (every string must be valid UTF-8) or the list's
 * values are not made of the input. */
#include "common/mime_forms.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void must_encode(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);

	if (s == NULL)
		abort();
	free(s);
	json_decref(j);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	const char *s = (const char *)data;
	json_t *fields;
	size_t i;
	json_t *f;

	for (int form = MIME_FORM_RAW; form <= MIME_FORM_URLS; form++)
		must_encode(mime_header_form(s, size, (enum mime_form)form));
	fields = mime_header_fields(s, size);
	if (json_array_size(fields) > MIME_FORMS_FIELDS_MAX)
		abort();
	json_array_foreach(fields, i, f) {
		const char *name = json_string_value(json_object_get(f, "name"));

		if (name == NULL || name[0] == '\0' || memmem(s, size, name, strlen(name)) == NULL)
			abort();
	}
	must_encode(fields);
	return 0;
}
