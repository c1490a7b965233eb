/*
 * geo/heat.h - a heatmap tile: weights binned on the tile's pixel grid (with a margin of one
 * kernel radius on every side, filled from the cases just outside the tile), a Gaussian kernel
 * of GEO_HEAT_RADIUS_PX (so its radius in metres follows the zoom), a colour ramp from
 * transparent through yellow to red, and a PNG (libpng). The intensity at a pixel depends only
 * on the weights within one radius of it and on the caller's scale, which does not depend on
 * the tile: neighbouring tiles computed apart agree along their shared edge. One struct per
 * render, any thread.
 */
#ifndef GEO_HEAT_H
#define GEO_HEAT_H

#include <stddef.h>

#include "base/err.h"

#define GEO_HEAT_RADIUS_PX 16 /* kernel radius at 256 px (3 sigma); doubled for 512 px tiles */

struct geo_heat {
    int size, margin, side; /* tile px; margin px; side = size + 2 margin */
    float *w;               /* side * side weights, row-major, (0, 0) = margin px outside NW */
    double total;
};

/* A grid for a tile size_px wide (256 or 512); its radius scales with the size. */
int geo_heat_init(struct geo_heat *h, int size_px, struct rp_err *err);
void geo_heat_fini(struct geo_heat *h);

/* Adds weight at tile position (px, py) (0..size; a margin-wide band outside counts too,
 * further out is ignored), shared bilinearly between the four nearest pixel centres. */
void geo_heat_add(struct geo_heat *h, double px, double py, float weight);

/* The kernel's response to one unit of weight spread evenly over a square of cell_px pixels:
 * what a scale is measured in (the peak of a uniformly dense area). */
double geo_heat_peak(int size_px, double cell_px);

/* Blurs, colours with `scale` as the intensity of full red, and encodes. *empty = 1 (and no
 * PNG) when nothing is drawn. *png is malloc'd. */
int geo_heat_png(struct geo_heat *h, double scale, unsigned char **png, size_t *len, int *empty,
                 struct rp_err *err);

/* A fully transparent PNG of size_px (the empty tile, made once). */
int geo_heat_empty_png(int size_px, unsigned char **png, size_t *len, struct rp_err *err);

#endif
