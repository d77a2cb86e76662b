/* pipeline.c: decode -> extract -> resolve for one message; see pipeline.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "alias-index.h"
#include "extract.h"
#include "mime-decode.h"
#include "normalize.h"
#include "pipeline.h"
#include "rules.h"

#define PIPELINE_MAX_NAMES_JSON (64u << 20)
#define PIPELINE_MAX_CANDIDATES 3

struct center {
	int id;
	char *email;
	char *folded_name; /* for finding the name in a body */
};

/* One site name looked up during a run: the extractor asks by name, the
 * result JSON shows how each was resolved or why not. */
struct resolution {
	char *name;
	int r; /* alias_index_resolve()'s */
	struct alias_match match;
	bool reported; /* listed as unresolved in this result */
};

struct pipeline {
	struct rules *rules;
	struct decode_limits limits;
	double threshold, margin;
	struct alias_index *sites;
	struct alias_index *centers_index;
	struct center *centers;
	size_t n_centers;
	struct resolution *res;
	size_t n_res, cap_res;
};

static int fail(char **reterr_reason, int r, const char *what)
{
	*reterr_reason = strdup(what);
	return r;
}

static void pipeline_forget_runs(struct pipeline *p)
{
	for (size_t i = 0; i < p->n_res; i++)
		free(p->res[i].name);
	p->n_res = 0;
}

static void pipeline_drop_names(struct pipeline *p)
{
	p->sites = alias_index_free(p->sites);
	p->centers_index = alias_index_free(p->centers_index);
	for (size_t i = 0; i < p->n_centers; i++) {
		free(p->centers[i].email);
		free(p->centers[i].folded_name);
	}
	free(p->centers);
	p->centers = NULL;
	p->n_centers = 0;
}

struct pipeline *pipeline_free(struct pipeline *p)
{
	if (!p)
		return NULL;
	pipeline_forget_runs(p);
	free(p->res);
	pipeline_drop_names(p);
	rules_free(p->rules);
	free(p);
	return NULL;
}

int pipeline_new(const struct pipeline_settings *s, struct pipeline **ret, char **reterr_reason)
{
	_cleanup_(pipeline_freep) struct pipeline *p = calloc(1, sizeof(*p));
	int r;

	*reterr_reason = NULL;
	if (!p)
		return -ENOMEM;
	if (!s->rules_dir)
		return fail(reterr_reason, -EINVAL, "no rules directory given");
	r = rules_load(s->rules_dir, s->rules_override_dir, &p->rules, reterr_reason);
	if (r < 0)
		return r;
	p->limits.max_message_size = s->max_message_size;
	p->threshold = s->match_threshold;
	p->margin = s->match_margin;
	*ret = TAKE_PTR(p);
	return 0;
}

const char *pipeline_rules_version(const struct pipeline *p)
{
	return rules_version(p->rules);
}

const struct rules *pipeline_rules(const struct pipeline *p)
{
	return p->rules;
}

struct alias_index *pipeline_site_index(struct pipeline *p)
{
	return p->sites;
}

struct alias_index *pipeline_center_index(struct pipeline *p)
{
	return p->centers_index;
}

/* The words the matcher strips from names: the terminology of one
 * vocabulary (site_term, center_term) and the articles and prepositions
 * that may lead a name ("στον Ποθητό", "the Zenobia"). */
static int matcher_terms(const struct pipeline *p, const char *vocab, const char ***ret)
{
	const char *const *lists[] = {rules_vocab(p->rules, vocab),
				      rules_vocab(p->rules, "site_skip")};
	const char **terms;
	size_t n = 0;

	for (size_t l = 0; l < ELEMENTSOF(lists); l++)
		for (size_t i = 0; lists[l] && lists[l][i]; i++)
			n++;
	terms = calloc(n + 1, sizeof(*terms));
	if (!terms)
		return -ENOMEM;
	n = 0;
	for (size_t l = 0; l < ELEMENTSOF(lists); l++)
		for (size_t i = 0; lists[l] && lists[l][i]; i++)
			terms[n++] = lists[l][i];
	*ret = terms;
	return 0;
}

static int new_index(struct pipeline *p, const char *terms_vocab, struct alias_index **ret)
{
	_cleanup_free_ const char **terms = NULL;
	struct alias_index_settings s = {.threshold = p->threshold, .margin = p->margin};
	int r = matcher_terms(p, terms_vocab, &terms);

	if (r < 0)
		return r;
	s.terms = terms;
	return alias_index_new(&s, ret);
}

/* [[id, "text"], ...] into idx; entries without a letter or digit are skipped. */
static int add_pairs(struct alias_index *idx, json_t *list, bool is_alias)
{
	size_t i;
	json_t *e;

	json_array_foreach(list, i, e)
	{
		json_int_t id = json_integer_value(json_array_get(e, 0));
		const char *text = json_string_value(json_array_get(e, 1));
		int r;

		if (id <= 0 || id > INT32_MAX || !text)
			return -EINVAL;
		r = alias_index_add(idx, (uint32_t)id, text, is_alias);
		if (r < 0 && r != -EINVAL)
			return r;
	}
	return 0;
}

static int add_centers(struct pipeline *p, json_t *list)
{
	size_t i, n = json_array_size(list);
	json_t *e;
	int r;

	p->centers = calloc(n ? n : 1, sizeof(*p->centers));
	if (!p->centers)
		return -ENOMEM;
	json_array_foreach(list, i, e)
	{
		json_int_t id = json_integer_value(json_array_get(e, 0));
		const char *name = json_string_value(json_array_get(e, 1));
		const char *email = json_string_value(json_array_get(e, 2));
		struct center *c = &p->centers[p->n_centers];

		if (id <= 0 || id > INT32_MAX || !name)
			return -EINVAL;
		c->id = (int)id;
		p->n_centers++;
		if (email && !(c->email = strdup(email)))
			return -ENOMEM;
		r = normalize_fold(name, &c->folded_name);
		if (r < 0 && r != -EINVAL)
			return r;
		r = alias_index_add(p->centers_index, (uint32_t)id, name, false);
		if (r < 0 && r != -EINVAL)
			return r;
	}
	return 0;
}

int pipeline_set_names(struct pipeline *p, const char *names_json, size_t len, char **reterr_reason)
{
	json_error_t jerr;
	json_t *root;
	int r;

	*reterr_reason = NULL;
	if (len > PIPELINE_MAX_NAMES_JSON)
		return fail(reterr_reason, -E2BIG, "the list of names is too large");
	root = json_loadb(names_json, len, 0, &jerr);
	if (!root)
		return fail(reterr_reason, -EINVAL, "the list of names is not JSON");
	pipeline_drop_names(p);
	r = new_index(p, "site_term", &p->sites);
	if (r == 0)
		r = new_index(p, "center_term", &p->centers_index);
	if (r == 0)
		r = add_pairs(p->sites, json_object_get(root, "sites"), false);
	if (r == 0)
		r = add_pairs(p->sites, json_object_get(root, "aliases"), true);
	if (r == 0)
		r = add_centers(p, json_object_get(root, "centers"));
	json_decref(root);
	if (r < 0) {
		pipeline_drop_names(p);
		return fail(reterr_reason, r,
			    r == -EINVAL ? "the list of names has a bad entry"
					 : "cannot index the names");
	}
	return 0;
}

static struct resolution *resolution_find(struct pipeline *p, const char *name)
{
	for (size_t i = 0; i < p->n_res; i++)
		if (strcmp(p->res[i].name, name) == 0)
			return &p->res[i];
	return NULL;
}

/* The extractor's resolve_site: remembers every name asked about. */
static int resolve_site(void *userdata, const char *name, int *ret_id)
{
	struct pipeline *p = userdata;
	struct resolution *res = resolution_find(p, name);

	if (!p->sites)
		return -ENOENT;
	if (!res) {
		if (p->n_res == p->cap_res) {
			size_t cap = p->cap_res ? p->cap_res * 2 : 16;
			struct resolution *n = reallocarray(p->res, cap, sizeof(*n));
			if (!n)
				return -ENOMEM;
			p->res = n;
			p->cap_res = cap;
		}
		res = &p->res[p->n_res];
		*res = (struct resolution){.name = strdup(name)};
		if (!res->name)
			return -ENOMEM;
		p->n_res++;
		res->r = alias_index_resolve(p->sites, name, &res->match);
	}
	if (res->r < 0)
		return -ENOENT;
	*ret_id = (int)res->match.best.id;
	return 0;
}

static int center_by_email(const struct pipeline *p, const char *addr)
{
	for (size_t i = 0; addr && i < p->n_centers; i++)
		if (p->centers[i].email && strcasecmp(p->centers[i].email, addr) == 0)
			return p->centers[i].id;
	return 0;
}

/* A center whose whole (folded) name stands in the folded body. */
static int center_in_text(const struct pipeline *p, const char *text)
{
	_cleanup_free_ char *folded = NULL;
	int found = 0;

	if (p->n_centers == 0 || normalize_fold(text, &folded) < 0)
		return 0;
	for (size_t i = 0; i < p->n_centers; i++) {
		const char *n = p->centers[i].folded_name;
		if (!n || !*n || !strstr(folded, n))
			continue;
		if (found && found != p->centers[i].id)
			return 0; /* two centers named: not ours to choose */
		found = p->centers[i].id;
	}
	return found;
}

/* The sender's address, else a center named in From or the body, else
 * Divemap's metadata comment. */
static int resolve_center(struct pipeline *p, const struct message *m, const char **ret_method)
{
	struct alias_match match;
	int id;

	*ret_method = "email";
	if ((id = center_by_email(p, m->from_addr)) || (id = center_by_email(p, m->sender_addr)))
		return id;
	*ret_method = "name";
	if (m->from_name && p->centers_index &&
	    alias_index_resolve(p->centers_index, m->from_name, &match) == 0)
		return (int)match.best.id;
	if ((id = center_in_text(p, m->text)))
		return id;
	*ret_method = "metadata";
	if (m->diving_center_id > 0 && m->diving_center_id <= INT32_MAX)
		return (int)m->diving_center_id;
	*ret_method = NULL;
	return 0;
}

static json_t *json_string_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *date_json(const struct message_date *d)
{
	int tz = d->tz_offset_min, a = tz < 0 ? -tz : tz;
	char s[40];

	snprintf(s, sizeof(s), "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", d->year, d->month,
		 d->day, d->hour, d->minute, d->second, tz < 0 ? '-' : '+', a / 60, a % 60);
	return json_string(s);
}

static json_t *candidate_json(const struct alias_candidate *c)
{
	return json_pack("{s:i, s:s, s:s, s:f}", "id", (int)c->id, "name", c->text ? c->text : "",
			 "method", alias_method_to_string(c->method), "score", c->score);
}

static json_t *unresolved_json(const struct resolution *res)
{
	json_t *cands = json_array();

	if (res->match.best.id)
		json_array_append_new(cands, candidate_json(&res->match.best));
	if (res->match.runner_up.id)
		json_array_append_new(cands, candidate_json(&res->match.runner_up));
	return json_pack("{s:s, s:s, s:s, s:o}", "kind", "site", "name", res->name, "why",
			 res->r == -ENOTUNIQ ? "ambiguous" : "no match", "candidates", cands);
}

/* "match" on every dive with a site name, and the "unresolved" list: the
 * dive-site names of the result that did not resolve, once each. (The
 * extractor also asks about phrases it then rejects as sites: those are
 * not the admin's business.) */
static int add_matches(struct pipeline *p, json_t *root, bool *ret_partial)
{
	json_t *unresolved = json_array(), *trip, *dive;
	size_t i, j;
	int id;

	if (!unresolved)
		return -ENOMEM;
	json_array_foreach(json_object_get(root, "trips"), i,
			   trip){json_array_foreach(json_object_get(trip, "dives"), j, dive){
	    const char *name = json_string_value(json_object_get(dive, "dive_site_name"));
	struct resolution *res;

	if (!name)
		continue;
	if (!resolution_find(p, name) && resolve_site(p, name, &id) == -ENOMEM) {
		json_decref(unresolved);
		return -ENOMEM;
	}
	res = resolution_find(p, name);
	if (!res)
		continue;
	if (res->r == 0)
		json_object_set_new(dive, "match", candidate_json(&res->match.best));
	else if (!res->reported) {
		res->reported = true;
		json_array_append_new(unresolved, unresolved_json(res));
	}
}
}
*ret_partial = json_array_size(unresolved) > 0;
json_object_set_new(root, "unresolved", unresolved);
return 0;
}

static json_t *warnings_json(const struct message *m, const struct extract_result *x,
			     const char *extra)
{
	json_t *w = json_array();

	for (unsigned bit = 1; bit && bit <= m->warnings; bit <<= 1)
		if (m->warnings & bit)
			json_array_append_new(w, json_string(mime_decode_warning_name(bit)));
	for (size_t i = 0; x && i < x->n_warnings; i++)
		json_array_append_new(w, json_string(x->warnings[i]));
	if (extra)
		json_array_append_new(w, json_string(extra));
	return w;
}

static int run_extractor(struct pipeline *p, const struct message *m, struct extract_result **ret,
			 char **reterr_reason)
{
	const struct message_date *d = m->has_date ? &m->date : &m->sent_date;
	struct extract_input in = {
	    .text = m->text,
	    .len = m->text_len,
	    .subject = m->subject,
	    .ref = {d->year, d->month, d->day},
	    .ref_tz_minutes = d->tz_offset_min,
	    .resolve_site = resolve_site,
	    .userdata = p,
	};
	return extract_run(p->rules, &in, ret, reterr_reason);
}

static int build_result(struct pipeline *p, const struct message *m, const struct extract_result *x,
			const char *warning, json_t **ret)
{
	_cleanup_free_ char *mid = NULL;
	const char *method = NULL;
	int center = resolve_center(p, m, &method), r;
	bool partial = false;
	json_t *root = NULL;

	if (m->message_id && asprintf(&mid, "<%s>", m->message_id) < 0)
		return -ENOMEM;
	if (x)
		r = extract_result_to_json(x, mid, center, &root);
	else {
		root = json_pack("{s:o, s:o, s:[]}", "message_id", json_string_or_null(mid),
				 "diving_center_id", center ? json_integer(center) : json_null(),
				 "trips");
		r = root ? 0 : -ENOMEM;
	}
	if (r < 0)
		return r;
	r = add_matches(p, root, &partial);
	if (r < 0) {
		json_decref(root);
		return r;
	}
	json_object_set_new(root, "subject", json_string_or_null(m->subject));
	json_object_set_new(root, "from",
			    json_pack("{s:o, s:o}", "name", json_string_or_null(m->from_name),
				      "address", json_string_or_null(m->from_addr)));
	json_object_set_new(root, "date", m->has_date ? date_json(&m->date) : json_null());
	json_object_set_new(root, "diving_center_method", json_string_or_null(method));
	json_object_set_new(root, "status",
			    json_string(json_array_size(json_object_get(root, "trips")) == 0
					    ? "no_trips"
					: partial ? "partial"
						  : "ok"));
	json_object_set_new(root, "rules_version", json_string(rules_version(p->rules)));
	json_object_set_new(root, "warnings", warnings_json(m, x, warning));
	json_object_set_new(root, "text", json_stringn(m->text, m->text_len));
	*ret = root;
	return 0;
}

int pipeline_run(struct pipeline *p, const char *raw, size_t len, char **ret_json,
		 char **reterr_reason)
{
	struct message *m = NULL;
	struct extract_result *x = NULL;
	const char *warning = NULL;
	json_t *root = NULL;
	int r;

	*reterr_reason = NULL;
	pipeline_forget_runs(p);
	r = mime_decode(raw, len, &p->limits, &m, reterr_reason);
	if (r < 0)
		return r == -ENOMEM ? r : -EBADMSG;
	if (m->has_date || m->has_sent_date)
		r = run_extractor(p, m, &x, reterr_reason);
	else
		warning = "no Date header: dates cannot be resolved, no trips extracted";
	if (r == 0 && !warning && !p->sites)
		warning = "no dive sites loaded: site names are not resolved";
	if (r == 0)
		r = build_result(p, m, x, warning, &root);
	if (r == 0) {
		*ret_json = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		r = *ret_json ? 0 : -ENOMEM;
	}
	json_decref(root);
	extract_result_free(x);
	message_free(m);
	return r;
}
