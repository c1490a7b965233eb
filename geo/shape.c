/*
 * geo/shape.c - GeoJSON for an area (see shape.h). Degrees per metre uses the meridian
 * length (~110.6 km per degree of latitude near Panama); in longitude the tolerance is then
 * about 1% tighter than asked, which errs on the side of detail.
 */
#include "geo/shape.h"

#define METRES_PER_DEG 110574.0

char *geo_shape_geojson(struct geo_ctx *gc, const struct geo_area *a, double simplify_m,
                        struct rp_err *err)
{
    GEOSGeoJSONWriter *w = GEOSGeoJSONWriter_create_r(gc->geos);
    GEOSGeometry *simple = NULL;
    char *out = NULL;

    if (!w) {
        rp_err_set(err, RP_NO_MEMORY, "GeoJSON writer");
        return NULL;
    }
    if (simplify_m > 0) {
        simple = GEOSTopologyPreserveSimplify_r(gc->geos, a->geom, simplify_m / METRES_PER_DEG);
        if (!simple) {
            rp_err_set(err, RP_INTERNAL, "simplify %s: %s", a->code, gc->err.msg);
            goto out;
        }
    }
    out = GEOSGeoJSONWriter_writeGeometry_r(gc->geos, w, simple ? simple : a->geom, -1);
    if (!out)
        rp_err_set(err, RP_INTERNAL, "GeoJSON of %s: %s", a->code, gc->err.msg);
out:
    if (simple)
        GEOSGeom_destroy_r(gc->geos, simple);
    GEOSGeoJSONWriter_destroy_r(gc->geos, w);
    return out;
}
