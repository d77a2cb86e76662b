/* extract-json.c: one message's result in the corpus JSON format. */
#include <errno.h>
#include <stdio.h>

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

static json_t *span_json(const struct extract_span *s)
{
	if (!s->rule_id && s->start == s->end)
		return json_null();
	return json_pack("{s:I, s:I, s:o}", "start", (json_int_t)s->start, "end",
			 (json_int_t)s->end, "rule", str_or_null(s->rule_id));
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
	return json_pack("{s:i, s:o, s:o, s:o, s:o, s:o, s:{s:o, s:o, s:o}}", "dive_number",
			 d->number, "dive_site_id",
			 d->site_id > 0 ? json_integer(d->site_id) : json_null(), "dive_site_name",
			 str_or_null(d->site_name), "dive_time", time_or_null(d->time),
			 "dive_duration", int_or_null(d->duration), "dive_description",
			 str_or_null(d->description), "source", "site", site_span_json(d), "time",
			 span_json(&d->time_span), "duration", span_json(&d->duration_span));
}

static json_t *trip_json(const struct extract_trip *t)
{
	json_t *dives = json_array(), *o;
	char date[11];

	if (!dives)
		return NULL;
	for (size_t i = 0; i < t->n_dives; i++)
		if (json_array_append_new(dives, dive_json(&t->dives[i])) < 0) {
			json_decref(dives);
			return NULL;
		}
	dates_format(t->date, date);
	o = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "trip_date", date,
		      "trip_time", time_or_null(t->time), "trip_duration", int_or_null(t->duration),
		      "trip_price", t->has_price ? json_real(t->price) : json_null(),
		      "trip_currency",
		      t->has_price && t->currency[0] ? json_string(t->currency) : json_null(),
		      "group_size_limit", int_or_null(t->group_size), "trip_difficulty",
		      str_or_null(t->difficulty), "special_requirements",
		      str_or_null(t->special_requirements), "trip_description",
		      str_or_null(t->description), "dives", dives);
	if (!o)
		return NULL;
	json_object_set_new(
	    o, "source",
	    json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "date", span_json(&t->date_span),
		      "time", span_json(&t->time_span), "duration", span_json(&t->duration_span),
		      "price", span_json(&t->price_span), "group_size",
		      span_json(&t->group_size_span), "difficulty", span_json(&t->difficulty_span),
		      "requirements", span_json(&t->requirements_span)));
	return o;
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
