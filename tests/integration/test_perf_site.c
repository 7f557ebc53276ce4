/*
 * tests/integration/test_perf_site.c — the HTML report and the --site
 * dashboard rendered for real in headless Chromium (Debian's chromium, at
 * an 800 px wide window), measured from the DOM after layout by a small
 * script the test adds to a copy of each page (the pages themselves carry
 * no scripts). The history is made of synthetic lightning-bench/1
 * documents with exact figures (14 runs): a read benchmark that drops 20% at run 9
 * (a regression and a change point), an error path ~10x the read rate (an
 * overhead row), and a memory figure that wobbles by 0.07%.
 * On every page checked (report.html, site index, the read and memory
 * series pages):
 * - no SVG text lies outside its SVG's box: labels and verdict words are
 *   never clipped (the "INCONCLUSIVI", "ror-absent/...");
 * - tick labels never overlap;
 * - the page is no wider than the 800 px window;
 * forest plots: the overhead row sits in its own panel, the main panel's
 * axis is symmetric around g = 1 (log scale), and the regression is its
 * first row; history charts: 4-8 round y ticks, the y range at least +-4%
 * of the typical value (so the 0.07% memory wobble stays flat), commits
 * on the x axis.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "testutil.h"

static char dir[64];
static const char *bin;

static int sh(const char *cmd)
{
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}


static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* One bench document: 6 repetitions of each workload. */
static void bench_doc(const char *path, int run)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "{\"schema\":\"lightning-bench/1\",\"machine\":{\"machine_id\":"
               "\"0123456789abcdef\"},\"build\":{\"commit\":\"%040d\",\"dirty\":false,"
               "\"compiler\":\"gcc\",\"cflags\":\"\"},\"results\":[", run + 1000);
    int first = 1;
    for (int r = 1; r <= 6; r++) {
        double jit = 1 + ((r * 7 + run * 3) % 5 - 2) / 1000.0;
        double read = (run >= 8 ? 0.8e6 : 1e6) * jit;
        double mem = 1000 * (1 + ((r + run) % 3 - 1) * 0.0007);
        fprintf(f,
                "%s{\"benchmark\":\"read-random\",\"engine\":\"lightning\",\"sync_mode\":\"none\","
                "\"threads\":1,\"repetition\":%d,\"ops\":1000,\"params\":{\"keys\":100},"
                "\"ops_per_sec\":%.3f,\"latency_ns\":{\"p50\":%.1f,\"p90\":null,\"p95\":null,"
                "\"p99\":%.1f,\"p999\":null,\"max\":null}}",
                first ? "" : ",", r, read, 1e9 / read, 3e9 / read);
        first = 0;
        fprintf(f,
                ",{\"benchmark\":\"error-absent\",\"engine\":\"lightning\",\"sync_mode\":\"none\","
                "\"threads\":1,\"repetition\":%d,\"ops\":1000,\"params\":{\"keys\":100},"
                "\"ops_per_sec\":%.3f}",
                r, 1e7 * jit);
        fprintf(f,
                ",{\"benchmark\":\"memory\",\"engine\":\"lightning\",\"sync_mode\":\"none\","
                "\"threads\":1,\"repetition\":%d,\"ops\":1000,\"params\":{\"keys\":100},"
                "\"ops_per_sec\":null,\"metrics\":{\"bytes_per_key\":{\"value\":%.4f,\"unit\":"
                "\"B/key\",\"direction\":\"lower\"}}}",
                r, mem);
    }
    fprintf(f, "]}\n");
    fclose(f);
}

/* Measures the laid-out page and leaves the result, URI-encoded JSON, in
 * <pre id=lpcheck> for --dump-dom. */
static const char *probe =
    "<script>\n"
    "window.addEventListener('load', function () {\n"
    "  var out = {texts: 0, clipped: [], overlaps: [], forest: [], hist: [],\n"
    "             scrollW: document.documentElement.scrollWidth, winW: window.innerWidth};\n"
    "  function bb(t) { var b = t.getBBox(); return {x: b.x, y: b.y, w: b.width, h: b.height}; }\n"
    "  document.querySelectorAll('svg').forEach(function (svg) {\n"
    "    var vb = svg.viewBox.baseVal;\n"
    "    svg.querySelectorAll('text').forEach(function (t) {\n"
    "      out.texts++;\n"
    "      var b = bb(t);\n"
    "      if (b.x < -0.5 || b.y < -0.5 || b.x + b.w > vb.width + 0.5 || b.y + b.h > vb.height + 0.5)\n"
    "        out.clipped.push(t.textContent);\n"
    "    });\n"
    "    ['ticklabel', 'xtick'].forEach(function (cls) {\n"
    "      var bs = Array.prototype.map.call(svg.querySelectorAll('text.' + cls), bb);\n"
    "      for (var i = 0; i < bs.length; i++) for (var j = i + 1; j < bs.length; j++) {\n"
    "        var a = bs[i], c = bs[j];\n"
    "        if (a.x < c.x + c.w && c.x < a.x + a.w && a.y < c.y + c.h && c.y < a.y + a.h)\n"
    "          out.overlaps.push(cls + ' ' + i + '/' + j);\n"
    "      }\n"
    "    });\n"
    "    var ys = Array.prototype.map.call(svg.querySelectorAll('text.ytick'), bb);\n"
    "    for (var i = 1; i < ys.length; i++)\n"
    "      if (Math.abs(ys[i].y - ys[i - 1].y) < ys[i].h) out.overlaps.push('ytick ' + i);\n"
    "    if (svg.classList.contains('forest')) {\n"
    "      var r = svg.querySelector('rect'), one = null;\n"
    "      svg.querySelectorAll('text.ticklabel').forEach(function (t) {\n"
    "        if (t.textContent === '1') one = t; });\n"
    "      out.forest.push({panel: svg.getAttribute('data-panel'),\n"
    "        labels: Array.prototype.map.call(svg.querySelectorAll('text.label'),\n"
    "                                          function (t) { return t.textContent; }),\n"
    "        verdicts: Array.prototype.map.call(svg.querySelectorAll('text.verdict'),\n"
    "                                            function (t) { return t.textContent; }),\n"
    "        center: r.x.baseVal.value + r.width.baseVal.value / 2,\n"
    "        one: one ? parseFloat(one.getAttribute('x')) : null});\n"
    "    }\n"
    "    if (svg.classList.contains('history'))\n"
    "      out.hist.push({ymin: +svg.dataset.ymin, ymax: +svg.dataset.ymax,\n"
    "        typical: +svg.dataset.typical, yticks: svg.querySelectorAll('text.ytick').length,\n"
    "        xticks: svg.querySelectorAll('text.xtick').length,\n"
    "        spread: svg.querySelectorAll('polygon.spread').length,\n"
    "        tolerance: svg.querySelectorAll('rect.tolerance').length});\n"
    "  });\n"
    "  var pre = document.createElement('pre'); pre.id = 'lpcheck';\n"
    "  pre.textContent = encodeURIComponent(JSON.stringify(out));\n"
    "  document.body.appendChild(pre);\n"
    "});\n"
    "</script>\n";

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c - 'a' + 10;
}

/* Renders page in Chromium at 800 px and returns the probe's findings. */
static json_t *render(const char *page)
{
    char copy[512], out[512], cmd[2048];
    snprintf(copy, sizeof copy, "%s.probe.html", page);
    snprintf(out, sizeof out, "%s.dom", page);
    char *html = tu_read_text(page);
    assert_non_null(html);
    char *end = strstr(html, "</body>");
    assert_non_null(end);
    FILE *f = fopen(copy, "w");
    assert_non_null(f);
    fwrite(html, 1, (size_t)(end - html), f);
    fputs(probe, f);
    fputs(end, f);
    fclose(f);
    free(html);
    /* root (CI) needs --no-sandbox; a private profile keeps runs apart */
    snprintf(cmd, sizeof cmd,
             "timeout 120 chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars "
             "--no-first-run --user-data-dir=%s/chrome-profile --window-size=800,1000 "
             "--virtual-time-budget=5000 --dump-dom 'file://%s' >%s 2>%s.err",
             dir, copy, out, out);
    int rc = sh(cmd);
    char *dom = tu_read_text(out);
    if (rc || !dom || !strstr(dom, "id=\"lpcheck\"")) {
        char errp[600];
        snprintf(errp, sizeof errp, "%s.err", out);
        char *err = tu_read_text(errp);
        fail_msg("chromium on %s: exit %d, no probe result\n%s", page, rc, err ? err : "");
    }
    char *p = strstr(dom, "id=\"lpcheck\">") + strlen("id=\"lpcheck\">");
    char *q = strstr(p, "</pre>");
    assert_non_null(q);
    size_t n = (size_t)(q - p);
    char *js = malloc(n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '%' && i + 2 < n) {
            js[k++] = (char)(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));
            i += 2;
        } else {
            js[k++] = p[i];
        }
    }
    js[k] = '\0';
    json_error_t je;
    json_t *j = json_loads(js, 0, &je);
    if (!j)
        fail_msg("probe result of %s: %s", page, je.text);
    free(js);
    free(dom);
    return j;
}

static void common_checks(const char *page, json_t *j)
{
    assert_true(json_integer_value(json_object_get(j, "texts")) > 0);
    json_t *clipped = json_object_get(j, "clipped");
    if (json_array_size(clipped))
        fail_msg("%s: clipped SVG text: %s", page, json_dumps(clipped, 0));
    json_t *ov = json_object_get(j, "overlaps");
    if (json_array_size(ov))
        fail_msg("%s: overlapping tick labels: %s", page, json_dumps(ov, 0));
    json_int_t sw = json_integer_value(json_object_get(j, "scrollW"));
    json_int_t ww = json_integer_value(json_object_get(j, "winW"));
    if (sw > ww)
        fail_msg("%s: the page is %lld px wide in a %lld px window", page, (long long)sw,
                 (long long)ww);
}

static void history_checks(const char *page, json_t *j, size_t want)
{
    json_t *h = json_object_get(j, "hist");
    assert_true(json_array_size(h) >= want);
    size_t i;
    json_t *c;
    json_array_foreach(h, i, c)
    {
        double lo = json_number_value(json_object_get(c, "ymin"));
        double hi = json_number_value(json_object_get(c, "ymax"));
        double typ = json_number_value(json_object_get(c, "typical"));
        json_int_t yt = json_integer_value(json_object_get(c, "yticks"));
        if (!(hi - lo >= 0.08 * fabs(typ)) || yt < 4 || yt > 8)
            fail_msg("%s: chart %zu: y %g..%g around %g with %lld ticks", page, i, lo, hi, typ,
                     (long long)yt);
        assert_true(json_integer_value(json_object_get(c, "xticks")) >= 2);
        assert_int_equal(json_integer_value(json_object_get(c, "spread")), 1);
    }
}

static void forest_checks(const char *page, json_t *j)
{
    json_t *fo = json_object_get(j, "forest");
    json_t *main_p = NULL, *ovh = NULL;
    size_t i;
    json_t *p;
    json_array_foreach(fo, i, p)
    {
        const char *which = json_string_value(json_object_get(p, "panel"));
        if (!strcmp(which, "main"))
            main_p = p;
        else
            ovh = p;
    }
    if (!main_p || !ovh)
        fail_msg("%s: want a main and an overhead forest panel: %s", page, json_dumps(fo, 0));
    json_t *ml = json_object_get(main_p, "labels");
    json_array_foreach(ml, i, p) assert_null(strstr(json_string_value(p), " vs "));
    assert_non_null(strstr(json_string_value(json_array_get(json_object_get(ovh, "labels"), 0)),
                           "error-absent/lightning vs read-random"));
    /* the regression first */
    assert_non_null(strstr(json_string_value(json_array_get(ml, 0)), "read-random"));
    assert_string_equal(json_string_value(json_array_get(json_object_get(main_p, "verdicts"), 0)),
                        "REGRESSION");
    /* symmetric around 1 */
    double c = json_number_value(json_object_get(main_p, "center"));
    double one = json_number_value(json_object_get(main_p, "one"));
    if (fabs(c - one) > 0.6)
        fail_msg("%s: g = 1 at x %.1f, the axis centre is %.1f", page, one, c);
}

static void test_pages_in_chromium(void **s)
{
    (void)s;
    char suite[128], args[512], cmd[1024], p[256];
    snprintf(suite, sizeof suite, "%s/suite.ini", dir);
    put(suite, "[suite]\nname = site\nkeys = 100\nreps = 6\nprocesses = 2\n"
               "[read]\nworkload = read-random\nmin_ratio = 0.90\n"
               "[error-path]\nworkload = error-absent\noverhead_of = read-random\n"
               "max_overhead = 0.10\n"
               "[memory]\nworkload = memory\nmetrics = bytes_per_key\nmax_ratio = 1.05\n");
    for (int r = 0; r < 14; r++) {
        snprintf(p, sizeof p, "%s/b%d.json", dir, r);
        bench_doc(p, r);
        snprintf(cmd, sizeof cmd,
                 "LIGHTNING_PERF_HISTORY=%s/h.db %s perf run --machine site-test --suite %s "
                 "--from-json %s >/dev/null",
                 dir, bin, suite, p);
        assert_int_equal(sh(cmd), 0);
    }
    snprintf(cmd, sizeof cmd,
             "cd %s && export LIGHTNING_PERF_HISTORY=%s/h.db LIGHTNING_PERF_MACHINE=site-test && "
             "%s perf baseline set 1 >/dev/null && { %s perf check --suite %s >check.txt; "
             "test $? -eq 1; } && %s perf report --suite %s --html report.html 2>/dev/null && "
             "%s perf report --suite %s --site site >/dev/null",
             dir, dir, bin, bin, suite, bin, suite, bin, suite);
    snprintf(args, sizeof args, "%s/check.txt", dir);
    if (sh(cmd)) {
        char *t = tu_read_text(args);
        fail_msg("making the history and reports failed:\n%s", t ? t : "");
    }

    snprintf(p, sizeof p, "%s/report.html", dir);
    json_t *j = render(p);
    common_checks(p, j);
    forest_checks(p, j);
    history_checks(p, j, 2);
    json_decref(j);

    snprintf(p, sizeof p, "%s/site/index.html", dir);
    j = render(p);
    common_checks(p, j);
    forest_checks(p, j);
    json_decref(j);

    /* the series pages of read and of the wobbling memory figure */
    char *index = tu_read_text(p);
    const char *want[2] = {">read-random/lightning</a></td><td>ops_per_sec<",
                           ">memory/lightning</a></td><td>bytes_per_key<"};
    for (int k = 0; k < 2; k++) {
        char *hit = strstr(index, want[k]);
        assert_non_null(hit);
        char *href = hit;
        while (href > index && strncmp(href, "href='", 6))
            href--;
        char page[256], file[64];
        snprintf(file, sizeof file, "%.*s", (int)(strchr(href + 6, '\'') - href - 6), href + 6);
        snprintf(page, sizeof page, "%s/site/%s", dir, file);
        j = render(page);
        common_checks(page, j);
        history_checks(page, j, 1);
        json_t *h0 = json_array_get(json_object_get(j, "hist"), 0);
        /* the baseline and check's allowance are drawn */
        assert_int_equal(json_integer_value(json_object_get(h0, "tolerance")), 1);
        json_decref(j);
        char *html = tu_read_text(page);
        if (k == 0)
            assert_non_null(strstr(html, "Change point at run 9"));
        free(html);
    }
    free(index);
}

static int setup(void **s)
{
    (void)s;
    bin = getenv("LIGHTNING_BIN");
    if (!bin) {
        fprintf(stderr, "LIGHTNING_BIN is not set (run through make test)\n");
        return -1;
    }
    return tu_mkdtemp(dir, sizeof dir, "test_perf_site");
}

static int teardown(void **s)
{
    (void)s;
    tu_rmdir(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_pages_in_chromium)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
