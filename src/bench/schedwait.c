/* bench/schedwait.c — run-queue wait of the calling thread (schedwait.h). */
#include "bench/schedwait.h"

#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int bench_sched_wait_ns(uint64_t *ns)
{
    /* open/read, not stdio: called by a worker right before and after its
     * timed loop, where an allocation would be noise. */
    int fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char buf[128];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    char *p = buf, *end;
    strtoull(p, &end, 10); /* time on CPU */
    if (end == p)
        return -1;
    p = end;
    unsigned long long w = strtoull(p, &end, 10);
    if (end == p)
        return -1;
    *ns = (uint64_t)w;
    return 0;
}

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    if (clock_gettime(id, &ts))
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t bench_thread_cpu_ns(void)
{
    return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

uint64_t bench_process_cpu_ns(void)
{
    return clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}
