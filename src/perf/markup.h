/*
 * perf/markup.h — escaping text for the documents `lightning perf` writes:
 * HTML (report, site, forest plots), GitHub-flavoured Markdown (the PR
 * comment) and XML (JUnit). One table of replacements, so a character
 * escaped in one document is escaped alike in the others.
 *
 * Contract
 * - Each writes s to f with the characters its format gives meaning
 *   replaced; NULL writes nothing. Bytes >= 0x80 pass through (UTF-8 stays
 *   UTF-8).
 * - perf_html_escape: & < > " ' as references, so the result is safe in
 *   element text and in double- or single-quoted attribute values.
 * - perf_gfm_escape: for a Markdown table cell: '|' as "\|", CR and LF as
 *   spaces (a cell is one line), & < > as in HTML (raw '<' would open
 *   HTML); quotes are left alone.
 * - perf_xml_escape: as HTML but ' as &apos;, and the control characters
 *   XML 1.0 cannot carry even as references (below 0x20 except TAB and
 *   LF) are dropped.
 * - Stateless; safe from any thread (on distinct FILEs).
 */
#ifndef PERF_MARKUP_H
#define PERF_MARKUP_H

#include <stdio.h>

void perf_html_escape(FILE *f, const char *s);
void perf_gfm_escape(FILE *f, const char *s);
void perf_xml_escape(FILE *f, const char *s);

#endif /* PERF_MARKUP_H */
