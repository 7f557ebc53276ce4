/* `lightning bench` — placeholder until issue #5's runner lands. */
#include "cli/cli.h"
int cli_bench_main(int argc, char **argv) { (void)argc; (void)argv; cli_error("bench: not built yet"); return 2; }
