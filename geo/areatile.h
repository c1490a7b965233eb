/*
 * geo/areatile.h - the boundaries as tiles, the base layer that needs no outside tile server:
 * a Mapbox Vector Tile with layers provincia, distrito and corregimiento (code, name; each
 * polygon clipped to the tile with a buffer and simplified for the zoom), or a PNG drawn with
 * cairo (land filled; provincia lines from z5, distrito lines from z8, corregimiento lines
 * from z11; names at higher zooms in DejaVu Sans, from Debian's fonts-dejavu-core). A label is
 * anchored at its area's point on surface, computed from the whole polygon, so the tiles on
 * both sides of a tile edge draw it alike. Areas never change while the server runs: callers
 * render each tile once and keep it. Any thread, each with its own geo_ctx.
 */
#ifndef GEO_AREATILE_H
#define GEO_AREATILE_H

#include <stddef.h>

#include "geo/index.h"
#include "geo/mvt.h"
#include "geo/tile.h"

#define GEO_AREATILE_BUFFER   64 /* tile units of 4096 the polygons reach past the edge */
#define GEO_AREATILE_ZOOM_MAX 18 /* beyond it the lines would only repeat z18's */

/* First zoom of each level, in the vector tile and in the PNG lines, and of its names. */
int geo_areatile_minzoom_mvt(enum rp_level level);
int geo_areatile_minzoom_png(enum rp_level level);
int geo_areatile_minzoom_label(enum rp_level level);
/* Frees cairo's and fontconfig's process-wide caches (fonts of the names): once, at exit,
 * after every thread that draws has stopped. */
void geo_areatile_shutdown(void);

/* The tile's three layers into m. */
int geo_areatile_mvt(const struct geo_index *ix, struct geo_ctx *gc, const struct geo_tile *t,
                     struct geo_mvt *m, struct rp_err *err);

/* The tile drawn size_px (256 or 512) wide; *png malloc'd. */
int geo_areatile_png(const struct geo_index *ix, struct geo_ctx *gc, const struct geo_tile *t,
                     int size_px, unsigned char **png, size_t *len, struct rp_err *err);

#endif
