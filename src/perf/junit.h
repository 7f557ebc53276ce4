/*
 * perf/junit.h — the verdict as JUnit XML, the format CI test tabs read
 * (GitHub Actions test reporters, GitLab's `artifacts:reports:junit`,
 * Jenkins). One <testcase> per comparison row, classname
 * "lightning.perf.<command>.<rule>", name "<series> <metric>":
 *   REGRESSION that gates      -> <failure type="regression">
 *   missing / could not judge  -> <error type="missing"|"error">
 *   INCONCLUSIVE that gates    -> <skipped message="INCONCLUSIVE ...">
 *   anything else, or a row outside the gate -> passed (with system-out)
 * The <testsuite> properties carry the exit code and both sides. Trend
 * writes one passing testcase per series (trend informs, it does not
 * gate), its change points in system-out. A command that failed before
 * comparing writes one <error> testcase with its message. The layout
 * validates against docs/schemas/junit.xsd.
 *
 * Contract: formatting only; every text is XML-escaped (control
 * characters dropped); reentrant.
 */
#ifndef PERF_JUNIT_H
#define PERF_JUNIT_H

#include <stdio.h>

#include "perf/outcome.h"

/* 0, or -1 when a write failed. */
int perf_junit_write(FILE *f, const perf_outcome *o);

#endif /* PERF_JUNIT_H */
