/* The one /proc/kallsyms reader (see kallsyms.h). */
#include "kallsyms.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int kallsyms__open(struct kallsyms *k, const char *path, uint64_t max_lines, char *io, size_t io_bytes)
{
	*k = (struct kallsyms){ .max_lines = max_lines };
	k->f = fopen(path, "re");
	if (!k->f)
		return -errno;
	if (io)
		setvbuf(k->f, io, _IOFBF, io_bytes);
	return 0;
}

/* Splits "ADDR T name" or "ADDR T name\t[mod]" (newline included or not) in
 * place. false for any other shape. */
static bool split(char *line, struct kallsyms_sym *s)
{
	char *p;
	s->addr = strtoull(line, &p, 16);
	if (p == line || p[0] != ' ' || !p[1] || p[2] != ' ')
		return false;
	s->type = p[1];
	char *name = p + 3, *end = name + strcspn(name, "\t\n");
	s->module = NULL;
	if (*end == '\t' && end[1] == '[') {
		char *mod = end + 2, *rb = strchr(mod, ']');
		if (!rb)
			return false;
		*rb = 0;
		s->module = mod;
	}
	*end = 0;
	s->name = name;
	return name[0] != 0;
}

int kallsyms__next(struct kallsyms *k, struct kallsyms_sym *s)
{
	while (fgets(k->line, sizeof(k->line), k->f)) {
		size_t len = strlen(k->line);
		if (len && k->line[len - 1] != '\n' && !feof(k->f))
			return -EOVERFLOW;
		if (++k->lines > k->max_lines)
			return -E2BIG;
		if (split(k->line, s))
			return 1;
	}
	return ferror(k->f) ? -EIO : 0;
}

void kallsyms__close(struct kallsyms *k)
{
	if (k->f)
		fclose(k->f);
	k->f = NULL;
}

bool kallsyms__padding(const char *name)
{
	return !strncmp(name, "__pfx_", 6) || !strncmp(name, "__cfi_", 6);
}
