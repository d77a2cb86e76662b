/* extract-json.c: one message's result in the corpus JSON format. */
#include <errno.h>
#include <stdio.h>

#include "cleanup.h"
#include "extract.h"

static json_t *time_or_null(int minutes)
{
	char buf[6];

	if (minutes < 0)
		return json_null();
	snprintf(buf, sizeof(buf), "%02u:%02u", (unsigned)(minutes / 60) % 100u,
		 (unsigned)(minutes % 60));
	return json_string(buf);
}

static json_t *int_or_null(int v)
{
	return v < 0 ? json_null() : json_integer(v);
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* An object of keys[i]: values[i], in that order, built directly: json_pack()
 * reads its format anew on every call, a tenth of the result's cost. Every
 * value is taken over; NULL (out of memory) if any is NULL. */
static json_t *object_of(size_t n, const char *const *keys, json_t **values)
{
	json_t *o = json_object();
	int k = o ? 0 : -1;

	for (size_t i = 0; i < n; i++) {
		if (k == 0 && values[i])
			k = json_object_set_new(o, keys[i], values[i]); /* takes it even on error */
		else {
			json_decref(values[i]);
			k = -1;
		}
	}
	if (k < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *span_json(const struct extract_span *s)
{
	static const char *const keys[] = {"start", "end", "rule"};

	if (!s->rule_id && s->start == s->end)
		return json_null();
	return object_of(ELEMENTSOF(keys), keys,
			 (json_t *[]){json_integer((json_int_t)s->start),
				      json_integer((json_int_t)s->end), str_or_null(s->rule_id)});
}

/* A site read from the subject says so: its offsets index the subject. */
static json_t *site_span_json(const struct extract_dive *d)
{
	json_t *o = span_json(&d->site_span);

	if (d->site_in_subject && json_is_object(o))
		json_object_set_new(o, "in", json_string("subject"));
	return o;
}

static json_t *dive_json(const struct extract_dive *d)
{
	static const char *const keys[] = {"dive_number", "dive_site_id",  "dive_site_name",
					   "dive_time",   "dive_duration", "dive_description",
					   "source"};
	static const char *const source_keys[] = {"site", "time", "duration"};
	json_t *source = object_of(ELEMENTSOF(source_keys), source_keys,
				   (json_t *[]){site_span_json(d), span_json(&d->time_span),
						span_json(&d->duration_span)});

	return object_of(ELEMENTSOF(keys), keys,
			 (json_t *[]){json_integer(d->number),
				      d->site_id > 0 ? json_integer(d->site_id) : json_null(),
				      str_or_null(d->site_name), time_or_null(d->time),
				      int_or_null(d->duration), str_or_null(d->description),
				      source});
}

static json_t *trip_json(const struct extract_trip *t)
{
	static const char *const keys[] = {"trip_date",
					   "trip_time",
					   "trip_duration",
					   "trip_price",
					   "trip_currency",
					   "group_size_limit",
					   "trip_difficulty",
					   "special_requirements",
					   "trip_description",
					   "dives",
					   "source"};
	static const char *const source_keys[] = {
	    "date", "time", "duration", "price", "group_size", "difficulty", "requirements"};
	json_t *dives = json_array(), *source;
	char date[11];

	if (!dives)
		return NULL;
	for (size_t i = 0; i < t->n_dives; i++)
		if (json_array_append_new(dives, dive_json(&t->dives[i])) < 0) {
			json_decref(dives);
			return NULL;
		}
	dates_format(t->date, date);
	source =
	    object_of(ELEMENTSOF(source_keys), source_keys,
		      (json_t *[]){span_json(&t->date_span), span_json(&t->time_span),
				   span_json(&t->duration_span), span_json(&t->price_span),
				   span_json(&t->group_size_span), span_json(&t->difficulty_span),
				   span_json(&t->requirements_span)});
	return object_of(
	    ELEMENTSOF(keys), keys,
	    (json_t *[]){json_string(date), time_or_null(t->time), int_or_null(t->duration),
			 t->has_price ? json_real(t->price) : json_null(),
			 t->has_price && t->currency[0] ? json_string(t->currency) : json_null(),
			 int_or_null(t->group_size), str_or_null(t->difficulty),
			 str_or_null(t->special_requirements), str_or_null(t->description), dives,
			 source});
}

int extract_result_to_json(const struct extract_result *r, const char *message_id,
			   int diving_center_id, json_t **ret)
{
	json_t *trips = json_array(), *warnings = json_array(), *o;

	if (!trips || !warnings)
		goto fail;
	for (size_t i = 0; i < r->n_trips; i++) {
		json_t *t = trip_json(&r->trips[i]);
		if (!t || json_array_append_new(trips, t) < 0)
			goto fail;
	}
	for (size_t i = 0; i < r->n_warnings; i++)
		if (json_array_append_new(warnings, json_string(r->warnings[i])) < 0)
			goto fail;
	o = json_pack("{s:o, s:o, s:o, s:o}", "message_id", str_or_null(message_id),
		      "diving_center_id",
		      diving_center_id > 0 ? json_integer(diving_center_id) : json_null(), "trips",
		      trips, "warnings", warnings);
	if (!o)
		return -ENOMEM;
	*ret = o;
	return 0;
fail:
	json_decref(trips);
	json_decref(warnings);
	return -ENOMEM;
}
