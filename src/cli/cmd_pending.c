/* Temporary: bench and perf commands land with their issues (#5, #6). */
#include <stdio.h>
#include "cli/cli.h"
int cli_bench_main(int argc, char **argv) { (void)argc; (void)argv; cli_error("bench: not built yet"); return 2; }
int cli_perf_main(int argc, char **argv) { (void)argc; (void)argv; cli_error("perf: not built yet"); return 2; }
