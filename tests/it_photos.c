/*
 * tests/it_photos.c - photos over HTTP on the real server: a photo with EXIF GPS and a camera
 * serial comes back with no APP1 at all and places a report that has no position; a rotated
 * photo is served upright; a 60000x60000 header, a truncated JPEG and a GIF are refused with
 * no case and no file left; a PNG named .jpg is taken by content; /media serves with ETag,
 * 304 and HEAD and refuses any other name; the reporter's token and the entity's staff add
 * photos later; Open311 takes `media` and shows `media_url`.
 * usage: it_photos PANAMA_DB   (REPORTA_BIN names the binary)
 */
#include <dirent.h>
#include <jansson.h>
#include <png.h>

#include "images.h"
#include "it.h"

static struct it_server srv;
static char idaan[128];

/* multipart/form-data with a `report` JSON part (NULL: none) and n photo parts */
static char *form(const char *field, const char *report, const unsigned char *const *photo,
                  const size_t *len, int n, size_t *out_len)
{
    size_t cap = 4096 + (report ? strlen(report) : 0), k = 0;
    char *b;

    for (int i = 0; i < n; i++)
        cap += len[i] + 256;
    b = malloc(cap);
    if (report)
        k += (size_t)sprintf(b + k,
                             "--BOUNDARY\r\nContent-Disposition: form-data; name=\"report\"\r\n"
                             "Content-Type: application/json\r\n\r\n%s\r\n",
                             report);
    for (int i = 0; i < n; i++) {
        k += (size_t)sprintf(b + k,
                             "--BOUNDARY\r\nContent-Disposition: form-data; name=\"%s\"; "
                             "filename=\"photo%d.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n",
                             field, i);
        memcpy(b + k, photo[i], len[i]);
        k += len[i];
        k += (size_t)sprintf(b + k, "\r\n");
    }
    k += (size_t)sprintf(b + k, "--BOUNDARY--\r\n");
    *out_len = k;
    return b;
}

static long post_form(const char *path, const char *body, size_t len, const char *extra_header,
                      struct it_reply *r)
{
    struct curl_slist *h =
        curl_slist_append(NULL, "Content-Type: multipart/form-data; boundary=BOUNDARY");
    if (extra_header)
        h = curl_slist_append(h, extra_header);
    it_request(&srv, "POST", path, body, len, h, r);
    curl_slist_free_all(h);
    return r->status;
}

static int files_in_media(void)
{
    char cmd[256];
    int n = -1;
    FILE *p;

    snprintf(cmd, sizeof cmd, "find '%s' -name '*.jpg' | wc -l", srv.dir);
    p = popen(cmd, "r");
    if (p && fscanf(p, "%d", &n) != 1)
        n = -1;
    if (p)
        pclose(p);
    return n;
}

static int cases_count(void)
{
    struct it_reply r;
    json_t *j;
    int n;

    it_get(&srv, "/api/v1/reports?limit=1000", &r);
    j = it_json(&r);
    n = (int)json_array_size(json_object_get(j, "features"));
    json_decref(j);
    free(r.body);
    return n;
}

static const char *jstr(json_t *j, const char *a, const char *b)
{
    json_t *v = json_object_get(j, a);
    return json_string_value(b ? json_object_get(v, b) : v);
}

static void test_exif_photo_places_the_report_and_is_served_clean(void)
{
    unsigned char *px = halves(1200, 900), *plain, *jpg;
    size_t plen, len, flen;
    const unsigned char *parts[1];
    struct it_reply r, img;
    char *body, path[160], hdr[200];
    json_t *j;

    plain = jpeg_of(px, 1200, 900, &plen);
    jpg = with_exif(plain, plen, 1, 8.98765, -79.51234, &len);
    parts[0] = jpg;
    body = form("photo", "{\"service_code\":\"basura\",\"description\":\"sin coordenadas\"}",
                parts, &len, 1, &flen);
    CHECK_INT_EQ(post_form("/api/v1/reports", body, flen, NULL, &r), 201);
    j = it_json(&r);
    CHECK_STR_EQ(jstr(json_object_get(j, "location"), "source", NULL), "photo_exif");
    CHECK_STR_EQ(jstr(json_object_get(j, "location"), "distrito", "code"), "0808");
    CHECK_NEAR(json_real_value(json_object_get(json_object_get(j, "location"), "lat")), 8.98765,
               1e-4);
    snprintf(path, sizeof path, "%s",
             json_string_value(json_object_get(json_array_get(json_object_get(j, "photos"), 0),
                                               "url")));
    CHECK(strncmp(path, "/media/", 7) == 0);
    CHECK(!strstr(r.body, "gps") && !strstr(r.body, SERIAL));
    json_decref(j);
    free(r.body);

    /* the served bytes: a JPEG with no metadata segment and no trace of the serial */
    CHECK(it_get(&srv, path, &img) == 0);
    CHECK_INT_EQ(img.status, 200);
    CHECK(strstr(img.headers, "image/jpeg") != NULL);
    CHECK(strstr(img.headers, "immutable") != NULL);
    CHECK(img.len > 1000 && ((unsigned char *)img.body)[0] == 0xFF);
    CHECK(!has_metadata((unsigned char *)img.body, img.len));
    CHECK(!contains((unsigned char *)img.body, img.len, SERIAL));
    CHECK(!contains((unsigned char *)img.body, img.len, "Exif"));
    {
        tjhandle tj = tjInitDecompress();
        int w = 0, h = 0, ss, cs;
        tjDecompressHeader3(tj, (unsigned char *)img.body, img.len, &w, &h, &ss, &cs);
        tjDestroy(tj);
        CHECK_INT_EQ(w, 1200);
        CHECK_INT_EQ(h, 900);
    }
    /* conditional and HEAD */
    {
        const char *e = strstr(img.headers, "ETag: ");
        char etag[100] = "";
        CHECK(e != NULL);
        if (e)
            sscanf(e + 6, "%99[^\r\n]", etag);
        snprintf(hdr, sizeof hdr, "If-None-Match: %s", etag);
        struct curl_slist *h = curl_slist_append(NULL, hdr);
        CHECK(it_request(&srv, "GET", path, NULL, 0, h, &r) == 0);
        CHECK_INT_EQ(r.status, 304);
        CHECK_INT_EQ(r.len, 0);
        free(r.body);
        curl_slist_free_all(h);
    }
    CHECK(it_request(&srv, "HEAD", path, NULL, 0, NULL, &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    CHECK_INT_EQ(r.len, 0);
    free(r.body);
    /* the thumbnail */
    memcpy(path + strlen(path) - 4, "_t.jpg", 7);
    CHECK(it_get(&srv, path, &r) == 0);
    CHECK_INT_EQ(r.status, 200);
    CHECK(!has_metadata((unsigned char *)r.body, r.len));
    free(r.body);
    free(img.body);
    free(body);

    /* with its own position the report keeps it: EXIF GPS is only a fallback */
    body = form("photo", "{\"service_code\":\"basura\",\"lat\":8.4277,\"lon\":-82.4309}", parts,
                &len, 1, &flen);
    CHECK_INT_EQ(post_form("/api/v1/reports", body, flen, NULL, &r), 201);
    j = it_json(&r);
    CHECK_STR_EQ(jstr(json_object_get(j, "location"), "source", NULL), "device");
    CHECK_STR_EQ(jstr(json_object_get(j, "location"), "distrito", "code"), "0406");
    json_decref(j);
    free(r.body);
    free(body);
    free(px);
    free(plain);
    free(jpg);
}

static void test_rotated_photo_is_served_upright(void)
{
    unsigned char *px = halves(400, 200), *plain, *jpg, rgb[3];
    size_t plen, len, flen;
    const unsigned char *parts[1];
    struct it_reply r, img;
    char *body;
    json_t *j, *photo;

    plain = jpeg_of(px, 400, 200, &plen);
    jpg = with_exif(plain, plen, 6, 9.0, -79.5, &len);
    parts[0] = jpg;
    body = form("photo", "{\"service_code\":\"hueco\",\"lat\":8.98,\"lon\":-79.52}", parts, &len,
                1, &flen);
    CHECK_INT_EQ(post_form("/api/v1/reports", body, flen, NULL, &r), 201);
    j = it_json(&r);
    photo = json_array_get(json_object_get(j, "photos"), 0);
    CHECK_INT_EQ(json_integer_value(json_object_get(photo, "width")), 200);
    CHECK_INT_EQ(json_integer_value(json_object_get(photo, "height")), 400);
    CHECK(it_get(&srv, json_string_value(json_object_get(photo, "url")), &img) == 0);
    jpeg_pixel((unsigned char *)img.body, img.len, 200, 400, 100, 40, rgb);
    CHECK(rgb[0] > 150 && rgb[2] < 100); /* red on top */
    jpeg_pixel((unsigned char *)img.body, img.len, 200, 400, 100, 360, rgb);
    CHECK(rgb[2] > 150 && rgb[0] < 100);
    free(img.body);
    json_decref(j);
    free(r.body);
    free(body);
    free(px);
    free(plain);
    free(jpg);
}

static void test_bad_photos_leave_no_case_and_no_file(void)
{
    unsigned char *px = halves(640, 480), *jpg, *bomb;
    size_t len, flen;
    const unsigned char *parts[2];
    size_t lens[2];
    struct it_reply r;
    char *body;
    json_t *j;
    int cases0 = cases_count(), files0 = files_in_media();
    static const unsigned char gif[] = "GIF89a\x01\x00\x01\x00\x00\x00\x00;";
    const char *report = "{\"service_code\":\"basura\",\"lat\":8.98,\"lon\":-79.52}";

    jpg = jpeg_of(px, 640, 480, &len);
    bomb = malloc(len);
    memcpy(bomb, jpg, len);
    for (size_t i = 2; i + 9 < len; i++)
        if (bomb[i] == 0xFF && bomb[i + 1] == 0xC0) {
            bomb[i + 5] = 60000 >> 8, bomb[i + 6] = 60000 & 0xFF;
            bomb[i + 7] = 60000 >> 8, bomb[i + 8] = 60000 & 0xFF;
            break;
        }
    /* one good photo and one truncated: the whole report is refused */
    parts[0] = jpg, lens[0] = len;
    parts[1] = jpg, lens[1] = len / 2;
    body = form("photo", report, parts, lens, 2, &flen);
    CHECK_INT_EQ(post_form("/api/v1/reports", body, flen, NULL, &r), 422);
    j = it_json(&r);
    CHECK_STR_EQ(it_error_code(j), "invalid_image");
    CHECK(strstr(jstr(json_object_get(j, "error"), "message", NULL), "photo 2") != NULL);
    json_decref(j);
    free(r.body);
    free(body);
    parts[0] = bomb, lens[0] = len;
    body = form("photo", report, parts, lens, 1, &flen);
    CHECK_INT_EQ(post_form("/api/v1/reports", body, flen, NULL, &r), 413);
    CHECK(strstr(r.body, "60000x60000") != NULL);
    free(r.body);
    free(body);
    parts[0] = gif, lens[0] = sizeof gif - 1;
    body = form("photo", report, parts, lens, 1, &flen);
    CHECK_INT_EQ(post_form("/api/v1/reports", body, flen, NULL, &r), 415);
    CHECK(strstr(r.body, "gif") != NULL);
    free(r.body);
    free(body);
    /* six photos: one too many */
    {
        const unsigned char *six[6] = {jpg, jpg, jpg, jpg, jpg, jpg};
        size_t six_len[6] = {len, len, len, len, len, len};
        body = form("photo", report, six, six_len, 6, &flen);
        CHECK_INT_EQ(post_form("/api/v1/reports", body, flen, NULL, &r), 400);
        free(r.body);
        free(body);
    }
    CHECK_INT_EQ(cases_count(), cases0);
    CHECK_INT_EQ(files_in_media(), files0);
    free(px);
    free(jpg);
    free(bomb);
}

static void test_png_named_jpg_is_taken_by_content(void)
{
    unsigned char *px = halves(300, 200), *png;
    png_alloc_size_t n = 0;
    png_image img;
    size_t flen, len;
    const unsigned char *parts[1];
    struct it_reply r;
    char *body;

    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = 300;
    img.height = 200;
    img.format = PNG_FORMAT_RGB;
    png_image_write_get_memory_size(img, n, 0, px, 0, NULL);
    png = malloc(n);
    png_image_write_to_memory(&img, png, &n, 0, px, 0, NULL);
    parts[0] = png;
    len = n;
    body = form("photo", "{\"service_code\":\"basura\",\"lat\":8.98,\"lon\":-79.52}", parts, &len,
                1, &flen); /* sent as photo0.jpg, image/jpeg */
    CHECK_INT_EQ(post_form("/api/v1/reports", body, flen, NULL, &r), 201);
    CHECK(strstr(r.body, "\"width\":300") != NULL);
    free(r.body);
    free(body);
    free(png);
    free(px);
}

static void test_media_names_are_checked(void)
{
    static const char *const bad[] = {
        "/media/../../etc/passwd",
        "/media/abc.jpg",
        "/media/%2e%2e%2fserve.log",
        "/media/ABCDEF0000000000000000000000000000000000000000000000000000000000.jpg",
        "/media/0000000000000000000000000000000000000000000000000000000000000000.png",
        "/media/0000000000000000000000000000000000000000000000000000000000000000.jpg/x",
    };
    struct it_reply r;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(it_get(&srv, bad[i], &r) == 0);
        if (r.status != 404)
            CHECK_REPORT("%s: %ld", bad[i], r.status);
        free(r.body);
    }
}

static void test_photos_added_later(void)
{
    unsigned char *px = halves(500, 300), *jpg;
    size_t len, flen;
    const unsigned char *parts[1];
    struct it_reply r;
    char *body, path[96], token[128], hdr[200], id[32];
    json_t *j;

    CHECK(it_send(&srv, "POST", "/api/v1/reports", NULL,
                  "{\"service_code\":\"fuga_agua\",\"lat\":8.98,\"lon\":-79.52}", &r) == 0);
    j = it_json(&r);
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(j, "id")));
    snprintf(token, sizeof token, "%s", json_string_value(json_object_get(j, "token")));
    json_decref(j);
    free(r.body);
    jpg = jpeg_of(px, 500, 300, &len);
    parts[0] = jpg;
    body = form("photo", NULL, parts, &len, 1, &flen);
    snprintf(path, sizeof path, "/api/v1/reports/%s/photos", id);
    CHECK_INT_EQ(post_form(path, body, flen, NULL, &r), 401);
    free(r.body);
    CHECK_INT_EQ(post_form(path, body, flen, "X-Report-Token: rpt_wrong", &r), 401);
    free(r.body);
    snprintf(hdr, sizeof hdr, "X-Report-Token: %s", token);
    CHECK_INT_EQ(post_form(path, body, flen, hdr, &r), 201);
    CHECK(strstr(r.body, "\"kind\":\"report\"") != NULL);
    free(r.body);
    /* IDAAN's crew adds the "after" picture */
    snprintf(hdr, sizeof hdr, "Authorization: Bearer %s", idaan);
    free(body);
    free(px);
    free(jpg);
    px = halves(200, 500);
    jpg = jpeg_of(px, 200, 500, &len);
    parts[0] = jpg;
    body = form("photo", NULL, parts, &len, 1, &flen);
    CHECK_INT_EQ(post_form(path, body, flen, hdr, &r), 201);
    j = it_json(&r);
    CHECK_INT_EQ(json_array_size(json_object_get(j, "photos")), 2);
    CHECK_STR_EQ(jstr(json_array_get(json_object_get(j, "photos"), 1), "kind", NULL), "after");
    json_decref(j);
    free(r.body);
    free(body);
    free(px);
    free(jpg);
}

static void test_open311_media(void)
{
    unsigned char *px = halves(320, 240), *jpg;
    size_t len, k = 0;
    struct it_reply r;
    char *b, path[96];
    json_t *j;
    struct curl_slist *h =
        curl_slist_append(NULL, "Content-Type: multipart/form-data; boundary=BOUNDARY");

    jpg = jpeg_of(px, 320, 240, &len);
    b = malloc(len + 2048);
    k += (size_t)sprintf(b + k, "--BOUNDARY\r\nContent-Disposition: form-data; "
                                "name=\"service_code\"\r\n\r\nbasura\r\n"
                                "--BOUNDARY\r\nContent-Disposition: form-data; name=\"lat\"\r\n\r\n"
                                "8.98\r\n--BOUNDARY\r\nContent-Disposition: form-data; "
                                "name=\"long\"\r\n\r\n-79.52\r\n--BOUNDARY\r\nContent-Disposition:"
                                " form-data; name=\"media\"; filename=\"m.jpg\"\r\n"
                                "Content-Type: image/jpeg\r\n\r\n");
    memcpy(b + k, jpg, len);
    k += len;
    k += (size_t)sprintf(b + k, "\r\n--BOUNDARY--\r\n");
    CHECK(it_request(&srv, "POST", "/open311/v2/requests.json", b, k, h, &r) == 0);
    CHECK_INT_EQ(r.status, 201);
    j = it_json(&r);
    snprintf(path, sizeof path, "/open311/v2/requests/%s.json",
             json_string_value(json_object_get(json_array_get(j, 0), "service_request_id")));
    json_decref(j);
    free(r.body);
    CHECK(it_get(&srv, path, &r) == 0);
    j = it_json(&r);
    CHECK(strncmp(json_string_value(json_object_get(json_array_get(j, 0), "media_url")) ?: "",
                  "/media/", 7) == 0);
    json_decref(j);
    free(r.body);
    curl_slist_free_all(h);
    free(b);
    free(px);
    free(jpg);
}

int main(int argc, char **argv)
{
    if (it_suite_start(argc, argv, &srv) != 0)
        return 1;
    if (it_key_create(&srv, "staff", "IDAAN", "cuadrilla", idaan, sizeof idaan) != 0) {
        fprintf(stderr, "the staff key was not created\n");
        return 1;
    }
    RUN(test_exif_photo_places_the_report_and_is_served_clean);
    RUN(test_rotated_photo_is_served_upright);
    RUN(test_bad_photos_leave_no_case_and_no_file);
    RUN(test_png_named_jpg_is_taken_by_content);
    RUN(test_media_names_are_checked);
    RUN(test_photos_added_later);
    RUN(test_open311_media);
    return it_suite_end(&srv);
}
