/* `lightning perf` — placeholder until issue #6's framework lands. */
#include "cli/cli.h"
int cli_perf_main(int argc, char **argv) { (void)argc; (void)argv; cli_error("perf: not built yet"); return 2; }
