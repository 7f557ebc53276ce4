/* perf/markup.c — HTML, Markdown and XML escaping (see markup.h). */
#include "perf/markup.h"

enum { M_HTML, M_GFM, M_XML };

static void escape(FILE *f, const char *s, int mode)
{
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        switch (ch) {
        case '<': fputs("&lt;", f); continue;
        case '>': fputs("&gt;", f); continue;
        case '&': fputs("&amp;", f); continue;
        case '"':
            if (mode != M_GFM) {
                fputs("&quot;", f);
                continue;
            }
            break;
        case '\'':
            if (mode != M_GFM) {
                fputs(mode == M_XML ? "&apos;" : "&#39;", f);
                continue;
            }
            break;
        case '|':
            if (mode == M_GFM) {
                fputs("\\|", f);
                continue;
            }
            break;
        case '\n':
        case '\r':
            if (mode == M_GFM) {
                fputc(' ', f);
                continue;
            }
            break;
        }
        if (mode == M_XML && ch < 0x20 && ch != '\n' && ch != '\t')
            continue;
        fputc(ch, f);
    }
}

void perf_html_escape(FILE *f, const char *s) { escape(f, s, M_HTML); }
void perf_gfm_escape(FILE *f, const char *s) { escape(f, s, M_GFM); }
void perf_xml_escape(FILE *f, const char *s) { escape(f, s, M_XML); }
