/*
 * bench/engine_lightning.h — lightning-only extensions of the benchmark
 * adapter (bench/engine_lightning.c), used by the runner for the lightning
 * engine alone.
 *
 * Injected slowdown (`lightning bench --inject-slowdown PCT`)
 * - Purpose: a known, reliable regression, so the regression framework can
 *   be checked end to end (an A/B with 5% injected must be reported).
 * - Busy loop: bench_lightning_spin(iters) runs `iters` iterations of an
 *   empty loop the compiler must keep (an asm barrier per iteration: one
 *   add, one compare, one branch; no memory traffic, no syscall). Its
 *   long-run speed is calibrated once per process (first use): the minimum
 *   over 7 timed runs of 2^22 iterations (the minimum, because preemption
 *   and interrupts only ever add time). Recent x86 cores run this loop at
 *   several iterations per cycle (0.12 ns/iteration measured here), so a
 *   short call's fixed cost (call, the mispredicted loop exit) is a real
 *   share of it: the per-op amount is therefore calibrated at its own size
 *   (below), not extrapolated from the long-run rate.
 * - Amount: when the adapter is opened with inject_slowdown_pct = P > 0,
 *   the runner, before each measured phase, runs the phase's warm-up with
 *   no busy work, takes the mean time per operation of that warm-up
 *   (min(threads, cores) x wall time / ops: the CPU time one operation
 *   occupies), and calls bench_lightning_slowdown_base(h, mean_ns). That
 *   picks the iteration count whose call takes P% of mean_ns: starting
 *   from the long-run rate, it times batches of calls at the candidate
 *   count (minimum of 5 batches of ~0.2 ms) and rescales, up to 3 rounds,
 *   and returns the measured ns per call it settled on. From
 *   then on every operation (put, get, delete, scan, txn_put, multi_get and
 *   the raw get below: once per call) first spins P% of mean_ns, so the
 *   phase takes (1 + P/100) times as long: throughput falls to
 *   1/(1 + P/100) of the un-slowed figure (5% -> -4.8%). The spin is fixed
 *   in iterations, so a change of CPU clock speed scales it with the
 *   engine's own CPU-bound work. Where operations mostly wait (fsync, I/O,
 *   lock contention) the added CPU time slows them by less than P%.
 * - The spin is counted inside sampled latencies (it is part of the op).
 *
 * Raw get: ldb_get with the caller's arguments, no adapter error message
 * formatting for a rejected argument, so the error-invalid workload
 * measures the engine's argument checking rather than our snprintf.
 *
 * Checkpoints (for the startup workloads): the engine opens from the
 * checkpoint its MANIFEST names and replays only the log after it; with no
 * MANIFEST it replays the whole log, as after a crash before any
 * checkpoint. These two calls look at and remove the MANIFEST of a closed
 * database directory (the file name is the engine's documented format,
 * src/engine/checkpoint.c); checkpoint files it named become unreferenced
 * and are left in place.
 */
#ifndef BENCH_ENGINE_LIGHTNING_H
#define BENCH_ENGINE_LIGHTNING_H

#include <stddef.h>
#include <stdint.h>

/* BENCH_OK, BENCH_NOTFOUND, BENCH_EINVAL when ldb_get rejected its
 * arguments (LDB_INVALID; no message recorded), or BENCH_EFAIL. */
int bench_lightning_get_raw(void *tctx, const void *k, size_t klen, void *buf,
                            size_t cap, size_t *vlen);

/* 1 when the closed database in dir has a checkpoint to open from. */
int bench_lightning_checkpoint_present(const char *dir);
/* Makes the next open of the closed database in dir replay the whole log:
 * removes its MANIFEST. BENCH_OK (also when there was none) or
 * BENCH_EFAIL with a message. */
int bench_lightning_forget_checkpoint(const char *dir);

/* The slowdown percentage the handle was opened with (0 = none). */
double bench_lightning_slowdown_pct(void *h);
/* Sets the busy work per operation to pct% of base_ns (0 turns it off).
 * Call only while no worker runs (it takes up to a few ms to calibrate).
 * Returns the measured ns per call of the busy work it set (0 if none). */
double bench_lightning_slowdown_base(void *h, double base_ns);

/* The busy-loop iterations each operation runs now, and a way to set them
 * directly: a deterministic injection for instruction-count measurement
 * (each iteration is 3 instructions: add, compare, branch). Call the setter
 * only while no worker runs. */
uint64_t bench_lightning_slowdown_iters(void *h);
void bench_lightning_slowdown_set_iters(void *h, uint64_t iters);

/* The calibrated cost of one busy-loop iteration, in ns (> 0). */
double bench_lightning_spin_ns_per_iter(void);
/* Runs the busy loop for iters iterations. */
void bench_lightning_spin(uint64_t iters);

#endif /* BENCH_ENGINE_LIGHTNING_H */
