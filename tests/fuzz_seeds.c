/*
 * tests/fuzz_seeds.c - writes the fuzzers' seed corpora into DIR/<target>/: for photo, small
 * JPEGs with and without EXIF (one rotated), a PNG and a truncated JPEG; for the text targets
 * (tests/fuzz_<target>.c), one input per shape the API documents, in each target's input
 * format, and DIR/<target>.dict, the words each parser looks for. usage: fuzz_seeds DIR
 */
#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <sys/stat.h>

#include "images.h"

struct seed {
    const char *target, *name, *text;
};

#define MP(b)         "multipart/form-data; boundary=" b "\n"
#define PART(b, name) "--" b "\r\nContent-Disposition: form-data; name=\"" name "\"\r\n\r\n"
#define FILEPART(b, name, file, type)                                                \
    "--" b "\r\nContent-Disposition: form-data; name=\"" name "\"; filename=\"" file \
    "\"\r\nContent-Type: " type "\r\n\r\n"
#define REPORT "{\"service_code\":\"bache\",\"lat\":8.98,\"lon\":-79.52,\"description\":\"hueco\"}"

/* clang-format off */
static const struct seed seeds[] = {
    /* multipart: Content-Type line, then the body of POST /api/v1/reports */
    {"multipart", "report_photo", MP("XyZ") PART("XyZ", "report") REPORT "\r\n"
        FILEPART("XyZ", "photo", "a.jpg", "image/jpeg") "\xff\xd8\xff\xe0 not a jpeg\r\n"
        "--XyZ--\r\n"},
    {"multipart", "two_photos_no_point", "multipart/form-data; boundary=\"a b\"\n"
        PART("a b", "report") "{\"service_code\":\"bache\",\"private\":false}\r\n"
        FILEPART("a b", "photo", "1.jpg", "image/jpeg") "one\r\n"
        FILEPART("a b", "photo", "2.png", "image/png") "two\r\n--a b--\r\n"},
    {"multipart", "reporter", MP("--b") PART("--b", "report")
        "{\"service_code\":\"x\",\"lat\":0,\"lon\":0,\"reporter\":{\"name\":\"Ana\",\"email\":"
        "\"a@b.pa\",\"phone\":\"+507 6000-0000\"},\"attributes\":{\"n\":1}}\r\n----b--\r\n"},
    {"multipart", "unexpected_part", MP("B") PART("B", "other") "x\r\n--B--\r\n"},
    {"multipart", "json", "application/json\n" REPORT},
    /* open311: Content-Type line, then the body of POST /open311/v2/requests.json */
    {"open311", "urlencoded", "application/x-www-form-urlencoded\n"
        "service_code=bache&lat=8.98&long=-79.52&description=Hueco+grande&first_name=Ana&"
        "last_name=P%C3%A9rez&email=a%40b.pa&phone=6000&device_id=d1&address_string=Calle+50&"
        "attribute[profundidad]=20&jurisdiction_id=311.gob.pa&api_key=k"},
    {"open311", "multipart_media", MP("XyZ") PART("XyZ", "service_code") "bache\r\n"
        PART("XyZ", "attribute[tipo]") "agua\r\n"
        FILEPART("XyZ", "media", "a.jpg", "image/jpeg") "\xff\xd8\xff\xe0 not a jpeg\r\n"
        "--XyZ--\r\n"},
    {"open311", "repeated", "application/x-www-form-urlencoded; charset=utf-8\n"
        "service_code=a&service_code=b&attribute[]=1&attribute[x=2&lat=1e400&long=nan&"
        "description=%00%ff"},
    /* json: the shape's name, then the body */
    {"json", "report", "report\n{\"service_code\":\"bache\",\"lat\":8.98,\"lon\":-79.52,"
        "\"description\":\"x\",\"address\":\"Calle 50\",\"device_id\":\"d1\",\"reporter\":"
        "{\"name\":\"Ana\",\"email\":\"a@b.pa\",\"phone\":\"+507\"},\"private\":true,"
        "\"attributes\":{\"profundidad\":20}}"},
    {"json", "status", "status\n{\"status\":\"duplicate\",\"note\":\"ya reportado\","
        "\"duplicate_of\":\"2026-000123\"}"},
    {"json", "transfer", "transfer\n{\"entity\":\"IDAAN\",\"reason\":\"es agua\"}"},
    {"json", "confirm", "confirm\n{\"device_id\":\"d2\"}"},
    {"json", "rating", "rating\n{\"score\":4,\"comment\":\"bien\",\"reason\":\"\","
        "\"reopen\":false}"},
    {"json", "followup", "followup\n{\"note\":\"hecho\"}"},
    {"json", "key", "key\n{\"role\":\"staff\",\"entity\":\"IDAAN\",\"name\":\"Operador\"}"},
    {"json", "service", "service\n{\"name_es\":\"Bache\",\"name_en\":\"Pothole\",\"group\":"
        "\"vias\",\"sla_hours\":72,\"duplicate_radius_m\":50,\"active\":true,\"attributes\":"
        "[{\"code\":\"profundidad\",\"datatype\":\"number\",\"required\":true}],"
        "\"national_entity\":\"MOP\"}"},
    {"json", "entity", "entity\n{\"name\":\"IDAAN\",\"kind\":\"utility\",\"area\":\"8\","
        "\"active\":true}"},
    {"json", "rule", "rule\n{\"service_code\":\"bache\",\"area\":\"0801\",\"entity\":\"MUPA\","
        "\"to_municipality\":false,\"priority\":10,\"sla_hours\":48,\"note\":\"capital\"}"},
    {"json", "yard", "yard\n{\"name\":\"Patio Norte\",\"address\":\"Vía Tocumen\",\"lat\":9.05,"
        "\"lon\":-79.45,\"radius_m\":150,\"hours\":{\"es\":\"24 h\",\"en\":\"24 h\"},"
        "\"documents\":{\"es\":\"cédula\",\"en\":\"ID\"},\"phone\":\"500-0000\",\"fees\":"
        "{\"tow_cents\":15000,\"daily_cents\":1000},\"active\":true}"},
    {"json", "truck", "truck\n{\"entity\":\"ATTT\",\"plate\":\"G-1234\",\"active\":true}"},
    {"json", "tow", "tow\n{\"plate\":\"ab-1234\",\"vehicle\":{\"make\":\"Toyota\",\"colour\":"
        "\"rojo\",\"type\":\"sedan\"},\"lat\":8.98,\"lon\":-79.52,\"address\":\"Calle 50\","
        "\"reason\":\"doble fila\",\"ticket\":\"T-1\",\"truck\":\"G1\",\"yard\":\"norte\","
        "\"report_id\":\"2026-000001\"}"},
    {"json", "tow_status", "tow_status\n{\"status\":\"released\",\"note\":\"pagado\"}"},
    {"json", "attributes", "attributes\n{\"definitions\":[{\"code\":\"tipo\",\"datatype\":"
        "\"singlevaluelist\",\"required\":true,\"values\":[{\"key\":\"agua\",\"name\":\"Agua\"}]},"
        "{\"code\":\"n\",\"datatype\":\"number\"},{\"code\":\"s\",\"datatype\":\"string\"}],"
        "\"given\":{\"tipo\":\"agua\",\"n\":3,\"s\":\"x\"}}"},
    {"json", "positions", "positions\n{\"positions\":[{\"lat\":8.98,\"lon\":-79.52,\"at\":"
        "\"2026-11-01T10:00:00.250Z\",\"speed_kmh\":30,\"heading\":90},{\"lat\":9,\"lon\":-79.5,"
        "\"at\":\"2026-11-01T05:00:01-05:00\"},{\"lat\":9,\"lon\":-79.5,\"at\":\"2026-11-01\"}]}"},
    /* query: after "GET /api/v1/reports?" */
    {"query", "reports", "bbox=-79.6,8.9,-79.4,9.1&status=received,assigned&service=bache&"
        "since=2026-11-01&until=2026-11-23T10:00:00Z&overdue=true&limit=50&cursor=1200"},
    {"query", "stats_export", "from=2026-11-01&to=2026-11-30&group=entity&group=month&"
        "lat=8.98&lon=-79.52&snap_m=200"},
    {"query", "month_open311", "month=2026-12&start_date=2026-11-01T08:30:00-05:00&"
        "end_date=2026-11-02&service=bache&entity=IDAAN&area=0801&status=received&overdue=0"},
    {"query", "escapes", "lat=%2B8.98&lon=-79.52e0&status=in_progress%2Cassigned&"
        "since=2026-11-01T08:30Z&group=&group=provincia&start_date=2026-11-01T08:30:00.5Z"},
    /* tiles: after "GET /tiles/" */
    {"tiles", "heat_2x", "heat/12/1190/1965@2x.png?status=received&since=2026-11-01"},
    {"tiles", "cases", "cases/14/4762/7862.mvt?service=bache&entity=IDAAN&overdue=true"},
    {"tiles", "areas_pbf", "areas/8/74/122.pbf"},
    {"tiles", "areas_png", "areas/0/0/0.png"},
    {"tiles", "tilejson", "heat.json?service=bache&area=08&status=assigned,in_progress"},
    {"tiles", "escaped", "cases/22/4194303/4194303%2Emvt?since=2026-11-01T08:30:00Z"},
    /* plate: the plate as typed */
    {"plate", "dash", "ab-1234"},
    {"plate", "space", "AB 1234"},
    {"plate", "en_dash", "8T\xe2\x80\x93" "1234"},
    {"plate", "short", "M1"},
    {"plate", "dots", "CD.12.34"},
    {"plate", "nbsp", "\xc2\xa0" "123456\xe2\x80\xaf"},
    {"plate", "too_long", "ABCDEFGHIJ1"},
};

/* libFuzzer dictionaries, DIR/<target>.dict: the words the parsers look for. (libFuzzer also
 * sees the comparisons of our own code, but not the inside of libmicrohttpd or jansson.) */
#define MP_WORDS "Content-Disposition: form-data; name=\"", "\"; filename=\"", "Content-Type: ", \
    "Content-Transfer-Encoding: ", "\r\n--", "\r\n\r\n", "--\r\n", "; boundary=", \
    "multipart/form-data", "multipart/mixed", "application/x-www-form-urlencoded"
static const struct {
    const char *target;
    const char *words[48];
} dicts[] = {
    {"multipart", {MP_WORDS, "report", "photo", "\"service_code\"", "\"lat\"", "\"lon\"",
                   "\"reporter\"", "\"email\"", "\"attributes\"", "\"private\"", "true", "null",
                   "application/json"}},
    {"open311", {MP_WORDS, "&", "=", "%00", "%C3%A9", "attribute[", "]", "media", "service_code",
                 "lat", "long", "first_name", "last_name", "email", "phone", "description",
                 "address_string", "device_id", "api_key", "jurisdiction_id", "charset=utf-8"}},
    {"json", {"report\n", "status\n", "transfer\n", "confirm\n", "rating\n", "followup\n",
              "key\n", "service\n", "entity\n", "rule\n", "yard\n", "truck\n", "tow\n",
              "tow_status\n", "attributes\n", "positions\n", "true", "false", "null", "\\u0000",
              "\"definitions\"", "\"given\"", "\"datatype\"", "\"singlevaluelist\"",
              "\"values\"", "\"key\"", "\"required\"", "\"code\"", "\"at\"", "\"vehicle\"",
              "\"hours\"", "\"es\"", "\"en\"", "\"reporter\"", "-05:00", "T10:00:00.250Z"}},
    {"query", {"&", "=", "%2C", "%00", "bbox=", "status=", "service=", "entity=", "area=",
               "since=", "until=", "overdue=", "limit=", "cursor=", "from=", "to=", "month=",
               "group=", "start_date=", "end_date=", "lat=", "lon=", "snap_m=", "received",
               "assigned", "in_progress", "provincia", "distrito", "corregimiento", "true", "1e308",
               "T08:30:00Z", "-05:00"}},
    {"tiles", {"heat/", "cases/", "areas/", ".png", ".mvt", ".pbf", "@2x", ".json", "?", "&",
               "%2F", "%2E", "status=", "since=", "overdue=", "service=", "entity=", "area=",
               "4194303", "received,"}},
    {"plate", {"\xc2\xa0", "\xe2\x80\x90", "\xe2\x80\x91", "\xe2\x80\x92",
               "\xe2\x80\x93", "\xe2\x80\x94", "\xe2\x88\x92", "\xe2\x80\xaf", "-", ".",
               "/", "_", " ", "\t"}},
};
/* clang-format on */

static const char *const targets[] = {"photo", "multipart", "open311", "json",
                                      "query", "tiles",     "plate"};

/* One dictionary: each word quoted, with '"', '\\' and bytes outside printable ASCII as \xNN. */
static int dict_put(const char *dir, size_t d)
{
    char path[512];
    FILE *fp;

    snprintf(path, sizeof path, "%s/%s.dict", dir, dicts[d].target);
    if (!(fp = fopen(path, "w")))
        return perror(path), 1;
    for (size_t i = 0; i < sizeof dicts[d].words / sizeof dicts[d].words[0]; i++) {
        const unsigned char *w = (const unsigned char *)dicts[d].words[i];
        if (!w)
            break;
        fputc('"', fp);
        for (; *w; w++)
            if (*w < 0x20 || *w > 0x7e || *w == '"' || *w == '\\')
                fprintf(fp, "\\x%02X", *w);
            else
                fputc(*w, fp);
        fputs("\"\n", fp);
    }
    return fclose(fp) != 0 ? (perror(path), 1) : 0;
}

static int put(const char *dir, const char *target, const char *name, const void *d, size_t n)
{
    char path[512];
    FILE *fp;

    snprintf(path, sizeof path, "%s/%s/%s", dir, target, name);
    fp = fopen(path, "wb");
    if (!fp || fwrite(d, 1, n, fp) != n || fclose(fp) != 0) {
        perror(path);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    unsigned char *px, *jpg, *ex, *png;
    size_t len, elen;
    png_alloc_size_t plen = 0;
    png_image img;
    int failed = 0;

    if (argc < 2)
        return 2;
    if (mkdir(argv[1], 0755) != 0 && errno != EEXIST)
        return perror(argv[1]), 1;
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", argv[1], targets[i]);
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return perror(path), 1;
    }
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++)
        failed |=
            put(argv[1], seeds[i].target, seeds[i].name, seeds[i].text, strlen(seeds[i].text));
    for (size_t d = 0; d < sizeof dicts / sizeof dicts[0]; d++)
        failed |= dict_put(argv[1], d);

    px = halves(64, 48);
    jpg = jpeg_of(px, 64, 48, &len);
    failed |= put(argv[1], "photo", "plain.jpg", jpg, len);
    failed |= put(argv[1], "photo", "truncated.jpg", jpg, len / 2);
    ex = with_exif(jpg, len, 6, 8.98, -79.52, &elen);
    failed |= put(argv[1], "photo", "exif6.jpg", ex, elen);
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = 64;
    img.height = 48;
    img.format = PNG_FORMAT_RGB;
    png_image_write_get_memory_size(img, plen, 0, px, 0, NULL);
    png = malloc(plen);
    if (png && png_image_write_to_memory(&img, png, &plen, 0, px, 0, NULL))
        failed |= put(argv[1], "photo", "small.png", png, plen);
    free(px);
    free(jpg);
    free(ex);
    free(png);
    return failed;
}
