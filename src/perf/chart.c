/* perf/chart.c — the history chart of one series (chart.h). */
#include "perf/chart.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "perf/report.h"
#include "perf/stats.h"

static double nice_step(double span, int want)
{
    double raw = span / want, p = pow(10, floor(log10(raw))), m = raw / p;
    return (m < 1.5 ? 1 : m < 3 ? 2 : m < 7 ? 5 : 10) * p;
}

int perf_svg_history(FILE *f, const perf_trend *t, int64_t baseline_run, double tolerance)
{
    const double W = 760, H = 250, L = 84, R = 16, T = 14, B = 48;
    size_t n = t->n;
    if (!n)
        return 0;
    double pw = W - L - R, ph = H - T - B;
    double lo = INFINITY, hi = -INFINITY, base = NAN;
    double *med = malloc(n * sizeof *med);
    if (!med)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const perf_series_point *p = &t->pts[i];
        med[i] = p->median;
        double a = p->q25 > 0 ? p->q25 : p->median, b = p->q75 > 0 ? p->q75 : p->median;
        lo = fmin(lo, fmin(a, p->median));
        hi = fmax(hi, fmax(b, p->median));
        if (p->run_id == baseline_run)
            base = p->median;
    }
    double typical;
    perf_median(med, n, &typical);
    free(med);
    /* The tolerance band: what check lets through around the baseline. */
    double band_lo = NAN, band_hi = NAN;
    if (isfinite(base) && tolerance > 0 && tolerance < 1) {
        if (t->direction >= 0) {
            band_lo = base * (1 - tolerance);
            band_hi = base;
        } else {
            band_lo = base;
            band_hi = base / (1 - tolerance);
        }
        lo = fmin(lo, band_lo);
        hi = fmax(hi, band_hi);
    }
    double margin = fabs(typical) * (tolerance > 0 ? tolerance : 0.05);
    lo = fmin(lo, typical - margin);
    hi = fmax(hi, typical + margin);
    double step = nice_step(hi - lo, 5);
    lo = floor(lo / step) * step;
    hi = ceil(hi / step) * step;
    if (!(hi > lo))
        hi = lo + 1;
#define XS(i) (L + (n > 1 ? (double)(i) / (double)(n - 1) * pw : pw / 2))
#define YS(v) (T + (1.0 - ((v) - lo) / (hi - lo)) * ph)
    /* data-*: the axis, for tests and tools that check the chart is sane */
    fprintf(f, "<svg class='history' xmlns='http://www.w3.org/2000/svg' viewBox='0 0 %.0f %.0f' "
               "width='100%%' style='max-width:%.0fpx' role='img' font-family='sans-serif' "
               "font-size='11' data-ymin='%.17g' data-ymax='%.17g' data-typical='%.17g'>\n",
            W, H, W, lo, hi, typical);
    fprintf(f, "<rect x='%.0f' y='%.0f' width='%.0f' height='%.0f' fill='#fafafa' "
               "stroke='#ddd'/>\n", L, T, pw, ph);
    for (double v = lo; v <= hi + step / 2; v += step) {
        char lab[32];
        perf_fmt_value(v, t->unit, lab, sizeof lab);
        fprintf(f, "<line x1='%.0f' y1='%.1f' x2='%.0f' y2='%.1f' stroke='#e6e6e6'/>"
                   "<text class='ytick' x='%.0f' y='%.1f' text-anchor='end'>%s</text>\n",
                L, YS(v), L + pw, YS(v), L - 4, YS(v) + 4, lab);
    }
    if (isfinite(band_lo))
        fprintf(f, "<rect class='tolerance' x='%.0f' y='%.1f' width='%.0f' height='%.1f' "
                   "fill='#2e7d32' fill-opacity='0.08'><title>allowed by check: %.0f%% "
                   "tolerance around the baseline</title></rect>\n",
                L, YS(band_hi), pw, YS(band_lo) - YS(band_hi), tolerance * 100);
    if (n > 1) {
        fprintf(f, "<polygon class='spread' fill='#1565c0' fill-opacity='0.15' points='");
        for (size_t i = 0; i < n; i++)
            fprintf(f, "%.1f,%.1f ", XS(i), YS(t->pts[i].q75 > 0 ? t->pts[i].q75 : t->pts[i].median));
        for (size_t i = n; i-- > 0;)
            fprintf(f, "%.1f,%.1f ", XS(i), YS(t->pts[i].q25 > 0 ? t->pts[i].q25 : t->pts[i].median));
        fprintf(f, "'><title>middle half of each run's repetitions</title></polygon>\n");
        fprintf(f, "<polyline fill='none' stroke='#1565c0' stroke-width='1.5' points='");
        for (size_t i = 0; i < n; i++)
            fprintf(f, "%.1f,%.1f ", XS(i), YS(t->pts[i].median));
        fprintf(f, "'/>\n");
    }
    /* x axis: about six runs labelled with commit and date */
    size_t every = n > 6 ? (n + 5) / 6 : 1;
    for (size_t i = 0; i < n; i += every) {
        const perf_series_point *p = &t->pts[i];
        const char *anchor = n == 1 ? "middle" : i == 0 ? "start" : i + every >= n ? "end" : "middle";
        /* "12-02 17:49": the date and time of the run, month first */
        char when[16] = "";
        if (strlen(p->created_at) >= 16)
            perf_fmt(when, sizeof when, "%.5s %.5s", p->created_at + 5, p->created_at + 11);
        fprintf(f, "<text class='xtick' x='%.1f' y='%.0f' text-anchor='%s'>%.7s</text>"
                   "<text class='xtick' x='%.1f' y='%.0f' text-anchor='%s' fill='#777'>%s"
                   "</text>\n",
                XS(i), T + ph + 16, anchor, p->commit[0] ? p->commit : "?", XS(i), T + ph + 30,
                anchor, when);
    }
    for (size_t j = 0; j < t->ncp; j++) {
        size_t idx = t->cp[j].index;
        double x = idx > 0 ? (XS(idx - 1) + XS(idx)) / 2 : XS(idx);
        int right = x > L + pw / 2;
        fprintf(f, "<line x1='%.1f' y1='%.0f' x2='%.1f' y2='%.0f' stroke='#c62828' "
                   "stroke-dasharray='4 3'/>\n", x, T, x, T + ph);
        fprintf(f, "<text class='cp' x='%.1f' y='%.0f' fill='#c62828' text-anchor='%s'>%+.1f%% "
                   "(%s) at %.8s</text>\n",
                right ? x - 3 : x + 3, T + 12 + 12.0 * (double)(j % 3), right ? "end" : "start",
                t->cp[j].rel_step * 100, perf_step_word(t->cp[j].rel_step, t->direction),
                t->pts[idx].commit);
    }
    for (size_t i = 0; i < n; i++) {
        const perf_series_point *p = &t->pts[i];
        char v[32];
        perf_fmt_value(p->median, t->unit, v, sizeof v);
        int isb = p->run_id == baseline_run;
        fprintf(f, "<circle cx='%.1f' cy='%.1f' r='%s' fill='%s'><title>run %lld, %s, %.12s: "
                   "%s, n %zu%s</title></circle>\n",
                XS(i), YS(p->median), isb ? "5" : "2.5", isb ? "#2e7d32" : "#1565c0",
                (long long)p->run_id, p->created_at, p->commit, v, p->n,
                isb ? " (baseline)" : "");
    }
#undef XS
#undef YS
    fprintf(f, "</svg>\n");
    return ferror(f) ? -1 : 0;
}
