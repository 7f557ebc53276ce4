/* perf/forest.c — the forest plot (forest.h). */
#include "perf/forest.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "perf/markup.h"
#include "perf/outcome.h"
#include "perf/sample.h"

#define FONT 12.0
#define ROW_H 22.0

static const char *color(const perf_cmp_row *r)
{
    switch (r->v.verdict) {
    case PERF_VERDICT_REGRESSION: return "#c62828";
    case PERF_VERDICT_IMPROVEMENT: return "#2e7d32";
    case PERF_VERDICT_INCONCLUSIVE: return "#ef6c00";
    default: return "#1565c0";
    }
}

static void label_of(const perf_cmp_row *r, char *out, size_t cap)
{
    char name[160];
    perf_series_name(r->benchmark, r->engine, r->threads, name, sizeof name);
    if (r->overhead)
        perf_fmt(out, cap, "%s vs %s %s", name, r->versus, r->metric);
    else
        perf_fmt(out, cap, "%s %s", name, r->metric);
}

static double text_w(const char *s)
{
    /* UTF-8 continuation bytes take no advance */
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return (double)n * FONT * PERF_FOREST_CHAR_EM;
}

/* Round ratios for tick marks, both sides of 1. */
static const double ticks[] = {0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 0.67, 0.8, 0.9, 0.95,
                               1.0,  1.05, 1.11, 1.25, 1.5, 2,   4,   5,    10,  20,  50, 100};

static void panel(FILE *f, const perf_comparison *c, const size_t *ix, size_t n, int overhead,
                  const char *title)
{
    size_t rows = 0;
    double half = log(1.05), lw = 0;
    const char *widest_word = "INCONCLUSIVE";
    for (size_t k = 0; k < n; k++) {
        const perf_cmp_row *r = &c->rows[ix[k]];
        if (r->status != PERF_ROW_OK || !r->overhead != !overhead)
            continue;
        rows++;
        double cand[4] = {r->v.g_lo, r->v.g_hi, r->v.g, r->v.limit};
        for (int j = 0; j < 4; j++)
            if (cand[j] > 0 && isfinite(cand[j]) && fabs(log(cand[j])) > half)
                half = fabs(log(cand[j]));
        char lab[256];
        label_of(r, lab, sizeof lab);
        if (text_w(lab) > lw)
            lw = text_w(lab);
    }
    if (!rows)
        return;
    half *= 1.08; /* air beyond the widest interval */
    double L = lw + 16, R = text_w(widest_word) + 16, T = 40, pw = 420;
    double W = L + pw + R, H = T + ROW_H * (double)rows + 30;
#define GX(g) (L + (log(g) / half + 1) / 2 * pw)
    fprintf(f, "<svg class='forest' data-panel='%s' xmlns='http://www.w3.org/2000/svg' "
               "viewBox='0 0 %.0f %.0f' width='100%%' style='max-width:%.0fpx' role='img' "
               "font-family='monospace' font-size='%.0f'>\n",
            overhead ? "overhead" : "main", W, H, W, FONT);
    fprintf(f, "<text x='0' y='14' font-weight='bold'>");
    perf_html_escape(f, title);
    fprintf(f, "</text>\n");
    fprintf(f, "<rect x='%.1f' y='%.0f' width='%.1f' height='%.1f' fill='#fafafa' "
               "stroke='#ddd'/>\n", L, T - 6, pw, ROW_H * (double)rows + 6);
    /* Ticks outward from 1, each at least MIN_GAP px from those placed,
     * so their labels never overlap however narrow the range. */
    const double MIN_GAP = 40;
    double placed[sizeof ticks / sizeof ticks[0]];
    size_t np = 0;
    size_t order[sizeof ticks / sizeof ticks[0]], no = 0, one = 0;
    for (size_t i = 0; i < sizeof ticks / sizeof ticks[0]; i++)
        if (ticks[i] == 1.0)
            one = i;
    order[no++] = one;
    for (size_t d = 1; d < sizeof ticks / sizeof ticks[0]; d++) {
        if (one + d < sizeof ticks / sizeof ticks[0])
            order[no++] = one + d;
        if (d <= one)
            order[no++] = one - d;
    }
    for (size_t oi = 0; oi < no; oi++) {
        double g = ticks[order[oi]];
        if (fabs(log(g)) > half)
            continue;
        double x = GX(g);
        int near = 0;
        for (size_t q = 0; q < np; q++)
            near |= fabs(placed[q] - x) < MIN_GAP;
        if (near)
            continue;
        placed[np++] = x;
        fprintf(f, "<line class='tick' x1='%.1f' y1='%.0f' x2='%.1f' y2='%.1f' stroke='%s'/>"
                   "<text class='ticklabel' x='%.1f' y='%.1f' text-anchor='middle' "
                   "font-size='10'>%g</text>\n",
                x, T - 6, x, T + ROW_H * (double)rows, g == 1.0 ? "#444" : "#e0e0e0", x,
                H - 14, g);
    }
    fprintf(f, "<text x='%.1f' y='%.0f' text-anchor='middle' font-size='10'>g (log scale): "
               "&lt; 1 worse, &gt; 1 better</text>\n", L + pw / 2, T - 14);
    size_t k2 = 0;
    for (size_t k = 0; k < n; k++) {
        const perf_cmp_row *r = &c->rows[ix[k]];
        if (r->status != PERF_ROW_OK || !r->overhead != !overhead)
            continue;
        double y = T + ROW_H * (double)k2 + ROW_H / 2;
        char lab[256];
        label_of(r, lab, sizeof lab);
        const char *col = color(r);
        fprintf(f, "<text class='label' x='%.1f' y='%.1f' text-anchor='end'>", L - 8, y + 4);
        perf_html_escape(f, lab);
        fprintf(f, "</text>\n");
        if (r->v.limit > 0)
            fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#c62828' "
                       "stroke-dasharray='3 2'><title>limit %.3f</title></line>\n",
                    GX(r->v.limit), y - 8, GX(r->v.limit), y + 8, r->v.limit);
        if (r->v.g_lo > 0 && r->v.g_hi > 0)
            fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s' "
                       "stroke-width='2'/>\n", GX(r->v.g_lo), y, GX(r->v.g_hi), y, col);
        if (r->v.g > 0)
            fprintf(f, "<circle cx='%.1f' cy='%.1f' r='4' fill='%s'><title>g %.4f [%.4f, "
                       "%.4f], limit %.3f: %s</title></circle>\n",
                    GX(r->v.g), y, col, r->v.g, r->v.g_lo, r->v.g_hi, r->v.limit,
                    perf_row_word(r));
        fprintf(f, "<text class='verdict' x='%.1f' y='%.1f' fill='%s'>%s</text>\n", L + pw + 8,
                y + 4, col, perf_row_word(r));
        k2++;
    }
#undef GX
    fprintf(f, "</svg>\n");
}

int perf_svg_forest(FILE *f, const perf_comparison *c)
{
    size_t n = 0;
    int oom = 0;
    size_t *ix = perf_outcome_order(c, &n, &oom);
    if (oom)
        return -1;
    panel(f, c, ix, n, 0, "g = head/base per series, 99% interval, limit dashed");
    /* Overhead rules compare two benchmarks of one run: g of 10 is normal
     * there, and would squash every real row to a dot on a shared axis. */
    panel(f, c, ix, n, 1, "overhead rules (error path vs happy path, same run)");
    free(ix);
    return ferror(f) ? -1 : 0;
}
