/*
 * geo/tile.h - XYZ tile math on spherical Web Mercator (EPSG:3857), the scheme every web map
 * uses: tile (z, x, y) with y down from the north; its bounds in metres and in lon/lat; where a
 * lon/lat falls in pixels of a tile; "world pixel" coordinates at a zoom. The formulas are the
 * standard closed forms of EPSG:3857 (tests/test_tile.c checks them against PROJ); they run per
 * case per tile, so they are a few multiplications, not a PROJ call. Pure functions, any thread.
 */
#ifndef GEO_TILE_H
#define GEO_TILE_H

#include <stdint.h>

#define GEO_TILE_ZMAX    22
#define GEO_MERC_HALF_M  20037508.342789244 /* pi * 6378137: half the world's width */
#define GEO_MERC_LAT_MAX 85.0511287798066   /* latitude of y = GEO_MERC_HALF_M */

struct geo_tile {
    int z;
    uint32_t x, y;
};

/* 1 when 0 <= z <= GEO_TILE_ZMAX and x, y < 2^z. */
int geo_tile_valid(int z, long long x, long long y);

/* lon/lat <-> EPSG:3857 metres. Latitudes beyond GEO_MERC_LAT_MAX are clamped. */
void geo_merc_from_lonlat(double lon, double lat, double *mx, double *my);
void geo_lonlat_from_merc(double mx, double my, double *lon, double *lat);

/* Bounds: min x, min y, max x, max y (metres), or min lon, min lat, max lon, max lat. */
void geo_tile_bounds_merc(const struct geo_tile *t, double b[4]);
void geo_tile_bounds_lonlat(const struct geo_tile *t, double b[4]);

/* Position of (lon, lat) in the tile drawn size_px wide: (0, 0) its north-west corner, x east,
 * y south; outside [0, size_px) when the point is outside the tile. */
void geo_tile_pixel(const struct geo_tile *t, double size_px, double lon, double lat, double *px,
                    double *py);

/* "World pixels" at a level: the whole world is 2^level units wide, x east from 180 W, y south
 * from the north edge. A point's unit cell at `level` is the tile (level, floor(wx), floor(wy)). */
void geo_world_from_lonlat(double lon, double lat, int level, double *wx, double *wy);

/* Ground metres per pixel at latitude lat for tiles of zoom z drawn size_px wide. */
double geo_tile_m_per_px(int z, double size_px, double lat);

/* The tile of zoom z holding (lon, lat). */
void geo_tile_at(int z, double lon, double lat, struct geo_tile *out);

#endif
