/*
 * test-conf-docs.c -- the configuration reference mdauth.conf(5) and the
 * sample deploy/mdauth.conf against the code's key table (conf_keys[] in
 * app/conf.c, walked with conf_key_name and conf_key_value):
 *
 *  - every key of the table is documented in both, in the table's order,
 *    with the default conf_defaults gives it;
 *  - neither documents a key the table does not know;
 *  - the sample, with every key line uncommented, is a valid file.
 *
 * The files are read from $top_srcdir (make check sets it).  In the man
 * page, a key's entry is ".It Ic KEY ..." up to the next ".It" or ".El"
 * in the KEYS section, and says "Default:" followed by ".Li VALUE", or
 * "Unset by default".  In the sample, a key is the line "#KEY = VALUE";
 * the comment block around it says "unset by default" for a key without
 * a default.  A default computed when mdauthd starts is described in
 * words, listed in conf_computed[] below.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "tap.h"

#define LINES_MAX	4096

/* Defaults that depend on the machine, or whose value needs words. */
static const struct {
	const char	*key;
	const char	*words;		/* in the man entry and the sample */
	int		 same_value;	/* is the value itself compared too? */
} conf_computed[] = {
	{ "workers", "number of CPUs online", 0 },
	{ "max_concurrent_hashes", "half the workers", 1 },
};

struct text {
	char		 path[4096];
	char		*lines[LINES_MAX];
	size_t		 n;
};

/* Read a file into lines (without their newlines).  Returns 1 on success. */
static int
text_read(struct text *t, const char *dir, const char *name)
{
	char buf[8192];
	FILE *f;

	t->n = 0;
	snprintf(t->path, sizeof(t->path), "%s/%s", dir, name);
	if ((f = fopen(t->path, "r")) == NULL)
		return 0;
	while (fgets(buf, sizeof(buf), f) != NULL && t->n < LINES_MAX) {
		buf[strcspn(buf, "\n")] = '\0';
		if ((t->lines[t->n++] = strdup(buf)) == NULL)
			abort();
	}
	fclose(f);
	return 1;
}

static void
text_free(struct text *t)
{
	while (t->n > 0)
		free(t->lines[--t->n]);
}

/* Does s start with "prefix" followed by a space or its end? */
static const char *
word_after(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strncmp(s, prefix, n) != 0 || (s[n] != '\0' && s[n] != ' '))
		return NULL;
	return s + n;
}

static const char *
computed_words(const char *key, int *same_value)
{
	size_t i;

	for (i = 0; i < sizeof(conf_computed) / sizeof(conf_computed[0]); i++)
		if (strcmp(conf_computed[i].key, key) == 0) {
			*same_value = conf_computed[i].same_value;
			return conf_computed[i].words;
		}
	*same_value = 1;
	return NULL;
}

static int
conf_known(const char *key)
{
	const char *name;
	size_t i;

	for (i = 0; (name = conf_key_name(i)) != NULL; i++)
		if (strcmp(name, key) == 0)
			return 1;
	return 0;
}

/* ---------------------------------------------------------------------
 * The sample: "#key = value" lines (one space after '#' is allowed too). */

/* If line is a commented key line, its key (in key) and value. */
static const char *
sample_key_line(const char *line, char *key, size_t keylen)
{
	const char *p = line, *start;
	size_t n;

	if (*p++ != '#')
		return NULL;
	if (*p == ' ')
		p++;
	start = p;
	while (islower((unsigned char)*p) || isdigit((unsigned char)*p) ||
	    *p == '_')
		p++;
	n = (size_t)(p - start);
	if (n == 0 || n >= keylen || strncmp(p, " = ", 3) != 0)
		return NULL;
	memcpy(key, start, n);
	key[n] = '\0';
	return p + 3;
}

/* The line of key in the sample, or -1; *count how many there are. */
static long
sample_find(const struct text *t, const char *key, int *count)
{
	char k[64];
	long at = -1;
	size_t i;

	*count = 0;
	for (i = 0; i < t->n; i++)
		if (sample_key_line(t->lines[i], k, sizeof(k)) != NULL &&
		    strcmp(k, key) == 0) {
			if (at == -1)
				at = (long)i;
			(*count)++;
		}
	return at;
}

/* Does the block of non-blank lines around line at contain words? */
static int
sample_block_says(const struct text *t, long at, const char *words)
{
	long first = at, last = at, i;

	while (first > 0 && t->lines[first - 1][0] != '\0')
		first--;
	while (last + 1 < (long)t->n && t->lines[last + 1][0] != '\0')
		last++;
	for (i = first; i <= last; i++)
		if (strcasestr(t->lines[i], words) != NULL)
			return 1;
	return 0;
}

static void
test_sample(const struct text *t, const struct conf *defaults)
{
	char value[256], key[64], *all, err[512];
	const char *name, *words, *v;
	size_t i, len = 0;
	long at, prev = -1;
	int count, same, in_order = 1;
	struct conf c;

	for (i = 0; (name = conf_key_name(i)) != NULL; i++) {
		at = sample_find(t, name, &count);
		if (!ok(count == 1, "sample: %s is shown once", name))
			continue;
		if (at < prev) {
			printf("#   %s comes before the key above it in "
			    "conf_keys[]\n", name);
			in_order = 0;
		}
		prev = at;
		v = sample_key_line(t->lines[at], key, sizeof(key));
		words = computed_words(name, &same);
		if (words != NULL)
			ok(sample_block_says(t, at, words),
			    "sample: the comment of %s says \"%s\"", name, words);
		if (!conf_key_value(defaults, i, value, sizeof(value))) {
			ok(sample_block_says(t, at, "unset by default"),
			    "sample: the comment of %s says it is unset by "
			    "default", name);
		} else if (same) {
			if (!ok(strcmp(v, value) == 0, "sample: %s = %s", name,
			    value))
				printf("#   the sample says \"%s\"\n", v);
		}
	}
	ok(in_order, "sample: the keys are in the order of conf_keys[]");

	for (i = 0; i < t->n; i++)
		if (sample_key_line(t->lines[i], key, sizeof(key)) != NULL &&
		    !conf_known(key))
			ok(0, "sample: line %zu shows the unknown key \"%s\"",
			    i + 1, key);

	/* Uncommented, every key line must be a valid setting. */
	for (i = 0; i < t->n; i++)
		len += strlen(t->lines[i]) + 1;
	if ((all = malloc(len + 1)) == NULL)
		abort();
	len = 0;
	for (i = 0; i < t->n; i++) {
		const char *line = t->lines[i];

		if (sample_key_line(line, key, sizeof(key)) != NULL)
			line += line[1] == ' ' ? 2 : 1;
		len += (size_t)sprintf(all + len, "%s\n", line);
	}
	conf_defaults(&c);
	err[0] = '\0';
	if (!ok(conf_parse(&c, all, len, t->path, err, sizeof(err)),
	    "sample: with every key line uncommented it is a valid file"))
		printf("#   %s\n", err);
	conf_free(&c);
	free(all);
}

/* ---------------------------------------------------------------------
 * The man page: ".It Ic key" entries in the KEYS section. */

/* The lines [*first, *end) of key's entry; returns 0 if there is none. */
static int
man_entry(const struct text *t, const char *key, size_t *first, size_t *end,
    int *count)
{
	char start[80];
	int in_keys = 0, found = 0;
	size_t i;

	snprintf(start, sizeof(start), ".It Ic %s", key);
	*count = 0;
	for (i = 0; i < t->n; i++) {
		const char *line = t->lines[i];

		if (strncmp(line, ".Sh ", 4) == 0)
			in_keys = strcmp(line, ".Sh KEYS") == 0;
		if (!in_keys || word_after(line, start) == NULL)
			continue;
		if ((*count)++ > 0)
			continue;
		*first = i;
		for (i++; i < t->n; i++)
			if (strncmp(t->lines[i], ".It", 3) == 0 ||
			    strncmp(t->lines[i], ".El", 3) == 0 ||
			    strncmp(t->lines[i], ".Sh", 3) == 0)
				break;
		*end = i;
		found = 1;
		i--;
	}
	return found;
}

/* The value after "Default:" in the entry (".Li VALUE" on the next line). */
static int
man_default_is(const struct text *t, size_t first, size_t end,
    const char *value)
{
	char want[300];
	size_t i, n;

	n = (size_t)snprintf(want, sizeof(want), ".Li %s", value);
	for (i = first; i + 1 < end; i++) {
		const char *next = t->lines[i + 1];

		if (strcmp(t->lines[i], "Default:") != 0 ||
		    strncmp(next, want, n) != 0)
			continue;
		next += n;
		/* Only closing punctuation may follow. */
		if (*next == '\0' || strcmp(next, " .") == 0 ||
		    strcmp(next, " ,") == 0 || strcmp(next, " ;") == 0)
			return 1;
	}
	return 0;
}

static int
man_entry_says(const struct text *t, size_t first, size_t end,
    const char *words, int line_start)
{
	size_t i;

	for (i = first; i < end; i++)
		if (line_start ? strncmp(t->lines[i], words,
		    strlen(words)) == 0 : strstr(t->lines[i], words) != NULL)
			return 1;
	return 0;
}

static void
test_man(const struct text *t, const struct conf *defaults)
{
	char value[256], key[64];
	const char *name, *words;
	size_t i, first = 0, end = 0, prev = 0;
	int count, same, in_order = 1, in_keys = 0;

	for (i = 0; (name = conf_key_name(i)) != NULL; i++) {
		man_entry(t, name, &first, &end, &count);
		if (!ok(count == 1, "man: %s has one entry", name))
			continue;
		if (first < prev) {
			printf("#   %s comes before the key above it in "
			    "conf_keys[]\n", name);
			in_order = 0;
		}
		prev = first;
		words = computed_words(name, &same);
		if (words != NULL)
			ok(man_entry_says(t, first, end, words, 0),
			    "man: the entry of %s says \"%s\"", name, words);
		if (!conf_key_value(defaults, i, value, sizeof(value)))
			ok(man_entry_says(t, first, end, "Unset by default", 1),
			    "man: the entry of %s says \"Unset by default\"",
			    name);
		else if (same)
			ok(man_default_is(t, first, end, value),
			    "man: %s has \"Default:\" and \".Li %s\"", name,
			    value);
	}
	ok(in_order, "man: the keys are in the order of conf_keys[]");

	for (i = 0; i < t->n; i++) {
		const char *line = t->lines[i], *p;
		size_t n;

		if (strncmp(line, ".Sh ", 4) == 0)
			in_keys = strcmp(line, ".Sh KEYS") == 0;
		if (!in_keys || strncmp(line, ".It Ic ", 7) != 0)
			continue;
		p = line + 7;
		n = strcspn(p, " ");
		snprintf(key, sizeof(key), "%.*s", (int)n, p);
		if (!conf_known(key))
			ok(0, "man: line %zu documents the unknown key \"%s\"",
			    i + 1, key);
	}
}

int
main(void)
{
	const char *dir = getenv("top_srcdir");
	struct text sample, man;
	struct conf defaults;

	if (dir == NULL || *dir == '\0')
		dir = ".";
	conf_defaults(&defaults);
	ok(conf_key_name(0) != NULL, "the key table is not empty");

	if (ok(text_read(&sample, dir, "deploy/mdauth.conf"),
	    "the sample deploy/mdauth.conf can be read")) {
		test_sample(&sample, &defaults);
		text_free(&sample);
	}
	if (ok(text_read(&man, dir, "doc/man/mdauth.conf.5"),
	    "doc/man/mdauth.conf.5 can be read")) {
		test_man(&man, &defaults);
		text_free(&man);
	}
	conf_free(&defaults);
	return tap_done();
}
