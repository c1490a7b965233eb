/*
 * geo/tile.c - Web Mercator tile math (see tile.h). EPSG:3857 on the sphere of radius
 * 6378137 m: x = R lon, y = R ln tan(pi/4 + lat/2).
 */
#include "geo/tile.h"

#include <math.h>

#define EARTH_R_M 6378137.0

int geo_tile_valid(int z, long long x, long long y)
{
    long long n;

    if (z < 0 || z > GEO_TILE_ZMAX)
        return 0;
    n = 1LL << z;
    return x >= 0 && y >= 0 && x < n && y < n;
}

void geo_merc_from_lonlat(double lon, double lat, double *mx, double *my)
{
    double phi = fmax(-GEO_MERC_LAT_MAX, fmin(GEO_MERC_LAT_MAX, lat)) * M_PI / 180.0;

    *mx = EARTH_R_M * lon * M_PI / 180.0;
    *my = EARTH_R_M * log(tan(M_PI / 4.0 + phi / 2.0));
}

void geo_lonlat_from_merc(double mx, double my, double *lon, double *lat)
{
    *lon = mx / EARTH_R_M * 180.0 / M_PI;
    *lat = (2.0 * atan(exp(my / EARTH_R_M)) - M_PI / 2.0) * 180.0 / M_PI;
}

void geo_tile_bounds_merc(const struct geo_tile *t, double b[4])
{
    double size = 2.0 * GEO_MERC_HALF_M / (double)(1ULL << t->z);

    b[0] = -GEO_MERC_HALF_M + t->x * size;
    b[2] = b[0] + size;
    b[3] = GEO_MERC_HALF_M - t->y * size;
    b[1] = b[3] - size;
}

void geo_tile_bounds_lonlat(const struct geo_tile *t, double b[4])
{
    double m[4];

    geo_tile_bounds_merc(t, m);
    geo_lonlat_from_merc(m[0], m[1], &b[0], &b[1]);
    geo_lonlat_from_merc(m[2], m[3], &b[2], &b[3]);
}

void geo_world_from_lonlat(double lon, double lat, int level, double *wx, double *wy)
{
    double mx, my, n = (double)(1ULL << level);

    geo_merc_from_lonlat(lon, lat, &mx, &my);
    *wx = (mx + GEO_MERC_HALF_M) / (2.0 * GEO_MERC_HALF_M) * n;
    *wy = (GEO_MERC_HALF_M - my) / (2.0 * GEO_MERC_HALF_M) * n;
}

void geo_tile_pixel(const struct geo_tile *t, double size_px, double lon, double lat, double *px,
                    double *py)
{
    double wx, wy;

    geo_world_from_lonlat(lon, lat, t->z, &wx, &wy);
    *px = (wx - t->x) * size_px;
    *py = (wy - t->y) * size_px;
}

double geo_tile_m_per_px(int z, double size_px, double lat)
{
    return 2.0 * GEO_MERC_HALF_M * cos(lat * M_PI / 180.0) / ((double)(1ULL << z) * size_px);
}

void geo_tile_at(int z, double lon, double lat, struct geo_tile *out)
{
    double wx, wy, n = (double)(1ULL << z);

    geo_world_from_lonlat(lon, lat, z, &wx, &wy);
    out->z = z;
    out->x = (uint32_t)fmin(n - 1, fmax(0, floor(wx)));
    out->y = (uint32_t)fmin(n - 1, fmax(0, floor(wy)));
}
