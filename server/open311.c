/*
 * server/open311.c - Open311 GeoReport v2 formats (see open311.h).
 */
#include "server/open311.h"

#include <libxml/xmlwriter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PANAMA_OFFSET_S (-5 * 3600)

int open311_split(const char *file, char *base, size_t n, enum open311_format *fmt)
{
    const char *dot = file ? strrchr(file, '.') : NULL;

    if (!dot || (size_t)(dot - file) >= n || dot == file)
        return 0;
    if (strcmp(dot, ".json") == 0)
        *fmt = OPEN311_JSON;
    else if (strcmp(dot, ".xml") == 0)
        *fmt = OPEN311_XML;
    else
        return 0;
    memcpy(base, file, (size_t)(dot - file));
    base[dot - file] = '\0';
    return 1;
}

/* The element name of an item of array `parent`. */
static const char *item_name(const char *parent)
{
    static const struct {
        const char *parent, *item;
    } names[] = {{"services", "service"},   {"service_requests", "request"},
                 {"attributes", "attribute"}, {"values", "value"},
                 {"errors", "error"},       {"endpoints", "endpoint"},
                 {"formats", "format"},     {"keywords", "keyword"},
                 {"service_request_updates", "request_update"}};

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(names[i].parent, parent) == 0)
            return names[i].item;
    return "item";
}

static int write_value(xmlTextWriterPtr w, const char *name, json_t *v);

static int write_children(xmlTextWriterPtr w, const char *name, json_t *v)
{
    const char *key;
    json_t *item;
    size_t i;

    if (json_is_array(v)) {
        json_array_foreach(v, i, item) if (write_value(w, item_name(name), item) < 0) return -1;
    } else if (json_is_object(v)) {
        json_object_foreach(v, key, item) if (write_value(w, key, item) < 0) return -1;
    }
    return 0;
}

static int write_value(xmlTextWriterPtr w, const char *name, json_t *v)
{
    char num[64];

    if (xmlTextWriterStartElement(w, BAD_CAST name) < 0)
        return -1;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
    case JSON_ARRAY:
        if (write_children(w, name, v) < 0)
            return -1;
        break;
    case JSON_STRING:
        if (xmlTextWriterWriteString(w, BAD_CAST json_string_value(v)) < 0)
            return -1;
        break;
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        if (xmlTextWriterWriteString(w, BAD_CAST num) < 0)
            return -1;
        break;
    case JSON_REAL:
        snprintf(num, sizeof num, "%.10g", json_real_value(v));
        if (xmlTextWriterWriteString(w, BAD_CAST num) < 0)
            return -1;
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        if (xmlTextWriterWriteString(w, BAD_CAST(json_is_true(v) ? "true" : "false")) < 0)
            return -1;
        break;
    case JSON_NULL:
        break; /* an empty element */
    }
    return xmlTextWriterEndElement(w) < 0 ? -1 : 0;
}

static int to_xml(const char *root, json_t *doc, char **out, size_t *len)
{
    xmlBufferPtr buf = xmlBufferCreate();
    xmlTextWriterPtr w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
    int ok = w && xmlTextWriterStartDocument(w, "1.0", "UTF-8", NULL) >= 0 &&
             write_value(w, root, doc) == 0 && xmlTextWriterEndDocument(w) >= 0;

    if (w)
        xmlFreeTextWriter(w); /* flushes into buf */
    if (ok) {
        *len = (size_t)xmlBufferLength(buf);
        *out = malloc(*len + 1);
        ok = *out != NULL;
        if (ok) {
            memcpy(*out, xmlBufferContent(buf), *len);
            (*out)[*len] = '\0';
        }
    }
    if (buf)
        xmlBufferFree(buf);
    return ok;
}

int open311_reply(struct http_res *res, enum open311_format fmt, int status, const char *root,
                  json_t *doc)
{
    char *xml = NULL;
    size_t len = 0;
    int ok;

    if (!doc)
        return rp_err_set(&res->err, RP_NO_MEMORY, "open311 reply");
    if (fmt == OPEN311_JSON)
        return http_reply_json_new(res, status, doc);
    ok = to_xml(root, doc, &xml, &len);
    json_decref(doc);
    if (!ok)
        return rp_err_set(&res->err, RP_NO_MEMORY, "open311 xml");
    res->content_type = "text/xml; charset=utf-8";
    return http_reply_raw(res, status, xml, len);
}

int open311_error(struct http_res *res, enum open311_format fmt, int rc)
{
    enum rp_code code = res->err.code != RP_OK ? res->err.code : (enum rp_code)rc;
    int status = rp_err_status(code);
    const char *msg = res->err.msg[0] ? res->err.msg : rp_err_slug(code);
    json_t *doc;

    if (status >= 500)
        msg = "the server could not complete the request";
    doc = json_pack("[{s:i, s:s}]", "code", status, "description", msg);
    /* the reply replaces the error: keep the first error out of error_reply's way */
    memset(&res->err, 0, sizeof res->err);
    return open311_reply(res, fmt, status, "errors", doc);
}

void open311_time(const char *utc, char *out, size_t n)
{
    struct tm tm = {0};
    time_t t;

    if (!utc || !utc[0] ||
        sscanf(utc, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec) != 6) {
        snprintf(out, n, "%s", utc ? utc : "");
        return;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    t = timegm(&tm) + PANAMA_OFFSET_S;
    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%S-05:00", &tm);
}

int open311_parse_time(const char *in, char *utc, size_t n)
{
    struct tm tm = {0};
    int consumed = 0, oh = 0, om = 0;
    long off = 0;
    time_t t;
    const char *rest;

    if (sscanf(in, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &consumed) != 3)
        return 0;
    rest = in + consumed;
    if (*rest == 'T') {
        if (sscanf(rest, "T%2d:%2d:%2d%n", &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 3)
            return 0;
        rest += consumed;
        if (*rest == '.') /* fractions of a second */
            rest += 1 + strspn(rest + 1, "0123456789");
        if (*rest == 'Z') {
            rest++;
        } else if ((*rest == '+' || *rest == '-') &&
                   sscanf(rest + 1, "%2d:%2d", &oh, &om) == 2 && strlen(rest) == 6) {
            off = (*rest == '-' ? -1 : 1) * (oh * 3600L + om * 60L);
            rest += 6;
        } else {
            return 0;
        }
    } else {
        off = PANAMA_OFFSET_S; /* a bare date is a Panama day */
    }
    if (*rest)
        return 0;
    /* %d takes signs and fewer digits: "2-1-1" and "T-1:-1:-1" must not pass */
    if (tm.tm_year < 1970 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
        tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 || tm.tm_min > 59 || tm.tm_sec < 0 ||
        tm.tm_sec > 60 || oh < 0 || oh > 23 || om < 0 || om > 59)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    t = timegm(&tm) - off;
    gmtime_r(&t, &tm);
    /* the stored form, which sorts as the time does: four digits of year, nothing else */
    return strftime(utc, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 20;
}
