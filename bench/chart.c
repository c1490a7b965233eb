/*
 * bench/chart.c - the picture of bench/run's summary: one horizontal bar per row, its ratio
 * against the peer or floor measured in the same run, on a log scale with the line at 1x
 * (level with the peer). Bars right of it are reporta ahead when higher is better (rates), or
 * reporta's cost above the floor when lower is better (latencies: their label says so).
 * usage: bench_chart SUMMARY.tsv OUT.png   (rows: name, ours, peer, peer value, ratio, better,
 * command; tab-separated, as bench/run writes them)
 */
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROWS_MAX 64
#define ROW_H    26
#define LABEL_W  540
#define BAR_W    440
#define PAD      16

struct row {
    char name[160];
    double ratio;
    int lower_better;
};

int main(int argc, char **argv)
{
    static struct row rows[ROWS_MAX];
    char line[2048];
    int n = 0;
    FILE *fp;
    double lo = log10(0.001), hi = log10(100.0);

    if (argc != 3) {
        fprintf(stderr, "usage: bench_chart SUMMARY.tsv OUT.png\n");
        return 2;
    }
    if (!(fp = fopen(argv[1], "r"))) {
        perror(argv[1]);
        return 1;
    }
    while (n < ROWS_MAX && fgets(line, sizeof line, fp)) {
        char *f[8] = {0};
        int k = 0;
        for (char *save = NULL, *t = strtok_r(line, "\t\n", &save); t && k < 8;
             t = strtok_r(NULL, "\t\n", &save))
            f[k++] = t;
        if (k < 6 || !(atof(f[4]) > 0))
            continue;
        snprintf(rows[n].name, sizeof rows[n].name, "%s vs %s", f[0], f[2]);
        rows[n].ratio = atof(f[4]);
        rows[n].lower_better = strcmp(f[5], "lower") == 0;
        n++;
    }
    fclose(fp);
    if (!n) {
        fprintf(stderr, "bench_chart: no rows with a ratio in %s\n", argv[1]);
        return 1;
    }
    {
        int w = PAD * 2 + LABEL_W + BAR_W + 150, h = PAD * 2 + 30 + n * ROW_H + 24;
        cairo_surface_t *cs = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
        cairo_t *cr = cairo_create(cs);
        double x0 = PAD + LABEL_W, one = x0 + (0 - lo) / (hi - lo) * BAR_W;

        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_paint(cr);
        cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
        cairo_set_font_size(cr, 14);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        cairo_move_to(cr, PAD, PAD + 14);
        cairo_show_text(cr, "bench/run: reporta / peer (log scale; 1x = level with the peer)");
        cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
        cairo_set_font_size(cr, 12);
        for (int i = 0; i < n; i++) {
            double y = PAD + 30 + i * ROW_H, r = rows[i].ratio, lr = log10(r), xe;
            char v[32];
            if (lr < lo)
                lr = lo;
            if (lr > hi)
                lr = hi;
            xe = x0 + (lr - lo) / (hi - lo) * BAR_W;
            cairo_save(cr); /* a name too long for its column is cut, not drawn over the bar */
            cairo_rectangle(cr, 0, y, PAD + LABEL_W - 8, ROW_H);
            cairo_clip(cr);
            cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
            cairo_move_to(cr, PAD, y + 16);
            cairo_show_text(cr, rows[i].name);
            cairo_restore(cr);
            /* blue: higher is better; orange: a cost (lower is better) */
            if (rows[i].lower_better)
                cairo_set_source_rgb(cr, 0.90, 0.55, 0.20);
            else
                cairo_set_source_rgb(cr, 0.20, 0.45, 0.75);
            cairo_rectangle(cr, xe < one ? xe : one, y + 4, fabs(xe - one), ROW_H - 8);
            cairo_fill(cr);
            snprintf(v, sizeof v, "%.3gx%s", r, rows[i].lower_better ? " (lower is better)" : "");
            cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
            cairo_move_to(cr, (xe > one ? xe : one) + 4, y + 16);
            cairo_show_text(cr, v);
        }
        /* the 1x line and the scale */
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        cairo_set_line_width(cr, 1);
        cairo_move_to(cr, one + 0.5, PAD + 26);
        cairo_line_to(cr, one + 0.5, PAD + 30 + n * ROW_H);
        cairo_stroke(cr);
        for (double t = lo; t <= hi + 1e-9; t += 1) {
            char v[16];
            double x = x0 + (t - lo) / (hi - lo) * BAR_W;
            snprintf(v, sizeof v, "%gx", pow(10, t));
            cairo_move_to(cr, x - 8, PAD + 30 + n * ROW_H + 16);
            cairo_show_text(cr, v);
        }
        cairo_destroy(cr);
        if (cairo_surface_write_to_png(cs, argv[2]) != CAIRO_STATUS_SUCCESS) {
            fprintf(stderr, "bench_chart: cannot write %s\n", argv[2]);
            cairo_surface_destroy(cs);
            return 1;
        }
        cairo_surface_destroy(cs);
    }
    cairo_debug_reset_static_data(); /* the font caches, for LeakSanitizer */
    FcFini();
    return 0;
}
