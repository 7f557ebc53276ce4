/* perf/baseline.c — baseline resolution for check (see baseline.h). */
#include "perf/baseline.h"

#include <stdlib.h>
#include <string.h>

int perf_baseline_resolve(perf_history *h, const perf_run_info *head, int establish, int force,
                          perf_baseline_choice *out, perf_error *e)
{
    memset(out, 0, sizeof *out);
    int64_t bid = 0;
    int r = perf_history_get_baseline(h, head->machine_id, head->sync_mode, head->suite, &bid,
                                      NULL, 0, e);
    if (r < 0)
        return -1;
    if (r > 0) {
        out->status = PERF_BASELINE_FOUND;
        out->run_id = bid;
        return 0;
    }
    if (establish) {
        if (perf_history_set_baseline(h, head->machine_id, head->sync_mode, head->suite,
                                      head->id, e))
            return -1;
        out->status = PERF_BASELINE_ESTABLISHED;
        out->run_id = head->id;
        return 0;
    }
    /* Is there a baseline elsewhere that force could use? */
    perf_baseline_row *b;
    size_t n;
    if (perf_history_list_baselines(h, &b, &n, e))
        return -1;
    const perf_baseline_row *other = NULL;
    for (size_t i = 0; i < n && !other; i++)
        if (!strcmp(b[i].suite, head->suite))
            other = &b[i];
    if (other) {
        out->status = force ? PERF_BASELINE_FORCED : PERF_BASELINE_ELSEWHERE;
        out->run_id = force ? other->run_id : 0;
        perf_strlcpy(out->other_machine, other->machine_id, sizeof out->other_machine);
        perf_strlcpy(out->other_sync, other->sync_mode, sizeof out->other_sync);
    } else {
        out->status = PERF_BASELINE_NONE;
    }
    free(b);
    return 0;
}
