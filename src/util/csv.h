/*
 * util/csv.h — writing CSV fields (RFC 4180), for the bench's CSV report
 * (bench/format.c) and the history export (perf/export.c).
 *
 * Contract: csv_write_field writes s as one field, quoted only when it
 * holds a comma, a double quote, CR or LF (quotes inside doubled), so a
 * plain name stays readable; NULL is written as the empty field. It writes
 * no separator: the caller puts the commas and line ends. Stateless; safe
 * from any thread (on distinct FILEs).
 */
#ifndef UTIL_CSV_H
#define UTIL_CSV_H

#include <stdio.h>

void csv_write_field(FILE *f, const char *s);

#endif /* UTIL_CSV_H */
