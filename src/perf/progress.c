/* perf/progress.c — the stderr progress line (see progress.h). */
#include "perf/progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "perf/error.h"
#include "util/sys.h"

double perf_now(void) { return (double)sys_now_ns() * 1e-9; }

void perf_progress_init(perf_progress *p, unsigned total, const char *what)
{
    memset(p, 0, sizeof *p);
    const char *force = getenv("LIGHTNING_PERF_PROGRESS");
    p->enabled = (force && !strcmp(force, "1")) || isatty(STDERR_FILENO);
    if (force && !strcmp(force, "0"))
        p->enabled = 0;
    p->total = total;
    p->t0 = perf_now();
    perf_strlcpy(p->what, what ? what : "", sizeof p->what);
}

static void fmt_dur(double s, char *out, size_t cap)
{
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(out, cap, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
    else
        snprintf(out, cap, "%ld:%02ld", t / 60, t % 60);
}

void perf_progress_step(perf_progress *p, const char *label)
{
    if (!p || !p->enabled)
        return;
    double el = perf_now() - p->t0;
    char e[32], r[48] = "";
    fmt_dur(el, e, sizeof e);
    if (p->done > 0 && p->total > p->done) {
        char rr[32];
        fmt_dur(el / p->done * (p->total - p->done), rr, sizeof rr);
        snprintf(r, sizeof r, "  remaining ~%s", rr);
    }
    unsigned pct = p->total ? p->done * 100 / p->total : 0;
    fprintf(stderr, "\r\033[K%s [%3u/%u] %3u%%  elapsed %s%s  %s", p->what, p->done + 1,
            p->total, pct, e, r, label ? label : "");
    fflush(stderr);
    p->shown = 1;
}

void perf_progress_advance(perf_progress *p)
{
    if (p && p->done < p->total)
        p->done++;
}

void perf_progress_clear(perf_progress *p)
{
    if (!p || !p->enabled || !p->shown)
        return;
    fprintf(stderr, "\r\033[K");
    fflush(stderr);
    p->shown = 0;
}

void perf_progress_finish(perf_progress *p)
{
    if (!p || !p->enabled)
        return;
    perf_progress_clear(p);
    char e[32];
    fmt_dur(perf_now() - p->t0, e, sizeof e);
    fprintf(stderr, "%s: %u/%u steps in %s\n", p->what, p->done, p->total, e);
}
