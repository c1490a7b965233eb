/*
 * tests/fuzz_tiles.c - libFuzzer target for tile paths: "/tiles/" + the input (say
 * "heat/12/1190/1965@2x.png?status=received&since=2026-11-01") as a real request
 * (tests/fuzz_http.h, so MHD decodes the path and the query), matched by the route table
 * (routes_match), then the layer, z, x and "Y[@2x].ext" through tiles_layer_find and
 * tiles_parse, the filter through tiles_filter_parse (TileJSON). Nothing is rendered. An
 * accepted tile must be on the map: z in 0..GEO_TILE_ZMAX, x and y below 2^z.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "geo/tile.h"
#include "server/routes.h"
#include "server/tiles.h"
#include "tests/fuzz_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(struct http_req *req, void *ctx)
{
    static struct tiles_request r; /* 1.3 KB: off the fuzzer's stack */
    struct tiles_params p;
    struct rp_err err = {0};
    unsigned allowed = 0;
    const struct route *route = routes_match(req, &allowed);
    int layer;

    (void)ctx;
    if (!route)
        return;
    h_tiles_params(req, &p);
    if (route->handler == h_tile_get) {
        layer = tiles_layer_find(http_param(req, "layer"));
        if (layer < 0)
            return;
        if (tiles_parse((enum tiles_layer)layer, http_param(req, "z"), http_param(req, "x"),
                        http_param(req, "file"), &p, &r, &err) != RP_OK)
            return;
        if (r.z < 0 || r.z > GEO_TILE_ZMAX || r.x >= (1u << r.z) || r.y >= (1u << r.z) ||
            (r.size_2x && r.format != TILES_PNG) || strlen(r.query) >= sizeof r.query)
            abort();
    } else if (route->handler == h_tilejson_get) {
        if (tiles_filter_parse(&p, &r, &err) == RP_OK && strlen(r.query) >= sizeof r.query)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_http_get_after("/tiles/", data, size, check, NULL);
    return 0;
}
