// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "util.h"

void diag_init(struct diag *d)
{
	memset(d, 0, sizeof(*d));
}

void diag_release(struct diag *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}

void diag_vadd(struct diag *d, enum diag_severity sev, const struct loc *loc,
	       const char *fmt, va_list ap)
{
	struct diag_entry *e;

	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 16;
		d->v = xrealloc(d->v, d->cap * sizeof(*d->v));
	}
	e = &d->v[d->n++];
	memset(e, 0, sizeof(*e));
	e->severity = sev;
	if (loc) {
		e->loc = *loc;
		e->file = loc->file ? xstrdup(loc->file) : NULL;
		e->loc.file = e->file;
	}
	e->msg = xvasprintf(fmt, ap);
	if (sev == DIAG_ERROR)
		d->errors++;
	else if (sev == DIAG_WARNING)
		d->warnings++;
}

void diag_add(struct diag *d, enum diag_severity sev, const struct loc *loc,
	      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(d, sev, loc, fmt, ap);
	va_end(ap);
}

static const char *const severity_name[] = {
	[DIAG_ERROR] = "error",
	[DIAG_WARNING] = "warning",
	[DIAG_NOTE] = "note",
};

void diag_print(const struct diag *d, FILE *f)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		const struct diag_entry *e = &d->v[i];

		/* file names and messages quoting policy text are foreign
		 * text: escaped (util.h text_put) */
		if (e->file) {
			text_put(f, e->file);
			if (e->loc.line)
				fprintf(f, ":%u:%u", e->loc.line, e->loc.col);
			fputs(": ", f);
		} else {
			fputs("portwarden: ", f);
		}
		fprintf(f, "%s: ", severity_name[e->severity]);
		text_put(f, e->msg);
		fputc('\n', f);
	}
}
