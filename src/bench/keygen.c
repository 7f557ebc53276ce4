/*
 * bench/keygen.c — deterministic generators; see keygen.h for the contract.
 */
#include "bench/keygen.h"

#include <endian.h>
#include <errno.h>
#include <math.h>
#include <string.h>

/* ---- PRNG --------------------------------------------------------------- */

uint64_t bench_splitmix64(uint64_t *state)
{
    return bench_hash64(*state += 0x9e3779b97f4a7c15ULL);
}

void bench_rng_seed(bench_rng *r, uint64_t seed)
{
    /* splitmix64 is what xoshiro's authors recommend for seeding: it never
     * yields the all-zero state, and nearby seeds give unrelated states. */
    uint64_t s = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = bench_splitmix64(&s);
}

void bench_rng_jump(bench_rng *r)
{
    static const uint64_t jump[4] = {0x180ec6d33cfd0abaULL,
                                     0xd5a61266f0c9392cULL,
                                     0xa9582618e03fc9aaULL,
                                     0x39abdc4529b1661cULL};
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (int i = 0; i < 4; i++) {
        for (int b = 0; b < 64; b++) {
            if (jump[i] & (UINT64_C(1) << b)) {
                s0 ^= r->s[0];
                s1 ^= r->s[1];
                s2 ^= r->s[2];
                s3 ^= r->s[3];
            }
            (void)bench_rng_next(r);
        }
    }
    r->s[0] = s0;
    r->s[1] = s1;
    r->s[2] = s2;
    r->s[3] = s3;
}

void bench_rng_seed_stream(bench_rng *r, uint64_t seed, uint64_t stream)
{
    bench_rng_seed(r, seed);
    for (uint64_t i = 0; i < stream; i++)
        bench_rng_jump(r);
}

/* ---- Bijections --------------------------------------------------------- */

uint64_t bench_hash64_inverse(uint64_t h)
{
    /* Undo each step of bench_hash64 in reverse order. x ^= x >> s is undone
     * by xoring in the shifted value repeatedly until the shift passes 64;
     * the multipliers are undone by their inverses modulo 2^64. */
    uint64_t x = h;
    x ^= (x >> 31) ^ (x >> 62);
    x *= 0x319642b2d24d8ec3ULL; /* inverse of 0x94d049bb133111eb */
    x ^= (x >> 27) ^ (x >> 54);
    x *= 0x96de1b173f119089ULL; /* inverse of 0xbf58476d1ce4e5b9 */
    x ^= (x >> 30) ^ (x >> 60);
    return x;
}

int bench_perm_init(bench_perm *p, uint64_t n, uint64_t seed)
{
    if (n == 0) {
        errno = EINVAL;
        return -1;
    }
    unsigned bits = n == 1 ? 0 : 64 - (unsigned)__builtin_clzll(n - 1);
    p->n = n;
    p->mask = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
    p->shift = bits < 2 ? 1 : (bits + 1) / 2;
    uint64_t s = seed;
    p->add = bench_splitmix64(&s);
    p->mul1 = bench_splitmix64(&s) | 1; /* odd: invertible modulo 2^bits */
    p->mul2 = bench_splitmix64(&s) | 1;
    return 0;
}

uint64_t bench_perm_apply(const bench_perm *p, uint64_t i)
{
    /* Each step is a bijection of [0, 2^bits): adding a constant, x ^= x >>
     * s, multiplying by an odd number, all modulo 2^bits. Cycle walking
     * (re-applying until the value is < n) restricts a bijection of the
     * larger domain to a bijection of [0, n): the walk from an i < n must
     * come back below n before it could return to i. */
    uint64_t x = i;
    do {
        x = (x + p->add) & p->mask;
        x ^= x >> p->shift;
        x = (x * p->mul1) & p->mask;
        x ^= x >> p->shift;
        x = (x * p->mul2) & p->mask;
        x ^= x >> p->shift;
    } while (x >= p->n);
    return x;
}

/* ---- Keys --------------------------------------------------------------- */

static int key_write(void *out, size_t key_size, uint64_t word)
{
    if (key_size < BENCH_KEY_MIN_SIZE) {
        errno = EINVAL;
        return -1;
    }
    uint64_t be = htobe64(word);
    memcpy(out, &be, 8);
    memset((unsigned char *)out + 8, BENCH_KEY_PAD, key_size - 8);
    return 0;
}

int bench_key_format(void *out, size_t key_size, uint64_t idx)
{
    return key_write(out, key_size, idx);
}

int bench_key_format_scrambled(void *out, size_t key_size, uint64_t idx)
{
    return key_write(out, key_size, bench_hash64(idx));
}

uint64_t bench_key_parse(const void *key)
{
    uint64_t be;
    memcpy(&be, key, 8);
    return be64toh(be);
}

/* ---- Zipfian ------------------------------------------------------------ */

/* Terms below this are summed exactly; Euler-Maclaurin takes over from it.
 * At 32 the first omitted correction (B8/8! f^(7)) is < 5e-15. */
#define ZETA_M 32

/* sum_{i=lo..hi} i^-theta, smallest terms first, compensated (Neumaier) so
 * that even 10^8 terms keep full double precision. */
static double zeta_direct(uint64_t lo, uint64_t hi, double theta)
{
    double sum = 0.0, comp = 0.0;
    for (uint64_t i = hi; i >= lo && i > 0; i--) {
        double t = pow((double)i, -theta);
        double s = sum + t;
        if (fabs(sum) >= fabs(t))
            comp += (sum - s) + t;
        else
            comp += (t - s) + sum;
        sum = s;
    }
    return sum + comp;
}

/* sum_{i=M..n} i^-theta for n >= M by Euler-Maclaurin:
 *   integral_M^n + (f(M) + f(n))/2 + sum_k B_2k/(2k)! (f^(2k-1)(n) - f^(2k-1)(M))
 * with f(x) = x^-theta, f^(2k-1)(x) = -theta(theta+1)..(theta+2k-2) f(x)/x^(2k-1). */
static double zeta_tail(uint64_t n, double theta)
{
    const double M = ZETA_M, N = (double)n, a = 1.0 - theta;
    double lnN = log(N), lnM = log(M);
    /* (N^a - M^a)/a through expm1: no cancellation as theta nears 1. */
    double integral = a == 0.0 ? lnN - lnM
                               : (expm1(a * lnN) - expm1(a * lnM)) / a;
    double fN = exp(-theta * lnN), fM = exp(-theta * lnM);
    double c1 = -theta;
    double c3 = c1 * (theta + 1) * (theta + 2);
    double c5 = c3 * (theta + 3) * (theta + 4);
    double d1 = c1 * (fN / N - fM / M);
    double d3 = c3 * (fN / (N * N * N) - fM / (M * M * M));
    double d5 = c5 * (fN / (N * N * N * N * N) - fM / (M * M * M * M * M));
    return integral + 0.5 * (fM + fN) + d1 / 12.0 - d3 / 720.0 + d5 / 30240.0;
}

static double zeta_with_head(uint64_t n, double theta, double head)
{
    if (n < ZETA_M)
        return zeta_direct(1, n, theta);
    return head + zeta_tail(n, theta);
}

double bench_zeta(uint64_t n, double theta)
{
    return zeta_with_head(n, theta, zeta_direct(1, ZETA_M - 1, theta));
}

double bench_zeta_exact(uint64_t n, double theta)
{
    return zeta_direct(1, n, theta);
}

#define ZIPF_MAX_N (UINT64_C(1) << 53)

static int zipf_domain_ok(uint64_t n, double theta)
{
    return n >= 1 && n < ZIPF_MAX_N && theta > 0.0 && theta < 1.0;
}

int bench_zipf_init(bench_zipf *z, uint64_t n, double theta)
{
    if (!zipf_domain_ok(n, theta)) {
        errno = EINVAL;
        return -1;
    }
    memset(z, 0, sizeof *z);
    z->theta = theta;
    z->alpha = 1.0 / (1.0 - theta);
    z->half_pow_theta = pow(0.5, theta);
    z->zeta2 = 1.0 + z->half_pow_theta;
    z->head = zeta_direct(1, ZETA_M - 1, theta);
    return bench_zipf_set_n(z, n);
}

int bench_zipf_set_n(bench_zipf *z, uint64_t n)
{
    if (!zipf_domain_ok(n, z->theta)) {
        errno = EINVAL;
        return -1;
    }
    z->n = n;
    z->zetan = zeta_with_head(n, z->theta, z->head);
    /* eta only matters for draws past item 1, which need n >= 3; with n <= 2
     * its formula would divide by zero. */
    if (n > 2) {
        double one_minus = -expm1((1.0 - z->theta) * log(2.0 / (double)n));
        z->eta = one_minus / (1.0 - z->zeta2 / z->zetan);
    } else {
        z->eta = 0.0;
    }
    return 0;
}

uint64_t bench_zipf_next(const bench_zipf *z, bench_rng *r)
{
    double u = bench_rng_unit(r);
    double uz = u * z->zetan;
    if (uz < 1.0)
        return 0;
    if (uz < 1.0 + z->half_pow_theta)
        return z->n > 1 ? 1 : 0;
    uint64_t v = (uint64_t)((double)z->n *
                            pow(z->eta * u - z->eta + 1.0, z->alpha));
    return v >= z->n ? z->n - 1 : v;
}

double bench_zipf_cdf(const bench_zipf *z, uint64_t k)
{
    if (k == 0)
        return 0.0;
    if (k >= z->n)
        return 1.0;
    if (k == 1)
        return 1.0 / z->zetan;
    if (k == 2)
        return z->zeta2 / z->zetan;
    /* next < k  <=>  n (1 - eta (1 - u))^alpha < k
     *           <=>  u < 1 - (1 - (k/n)^(1-theta)) / eta */
    double one_minus =
        -expm1((1.0 - z->theta) * log((double)k / (double)z->n));
    return 1.0 - one_minus / z->eta;
}

/* ---- Key distributions -------------------------------------------------- */

/* Fixed, so the scrambled hot set is the same for every seed and engine. */
#define SCRAMBLE_SEED UINT64_C(0x5ca1ab1e0ddba11)

int bench_dist_init(bench_dist *d, bench_dist_kind kind, uint64_t n,
                    double theta)
{
    memset(d, 0, sizeof *d);
    if (n == 0 || (int)kind < 0 || kind >= BENCH_DIST_COUNT)
        goto invalid;
    d->kind = kind;
    d->space = n;
    d->count = n;
    switch (kind) {
    case BENCH_DIST_SCRAMBLED_ZIPFIAN:
        /* Ranks come from a zipfian over the whole space, then permuted. */
        if (bench_perm_init(&d->perm, n, SCRAMBLE_SEED) != 0)
            goto invalid;
        /* fall through */
    case BENCH_DIST_ZIPFIAN:
    case BENCH_DIST_LATEST:
        if (bench_zipf_init(&d->zipf, n, theta) != 0)
            goto invalid;
        break;
    default:
        break;
    }
    return 0;
invalid:
    errno = EINVAL;
    return -1;
}

int bench_dist_set_count(bench_dist *d, uint64_t count)
{
    if (count == 0)
        goto invalid;
    switch (d->kind) {
    case BENCH_DIST_SCRAMBLED_ZIPFIAN:
        if (count > d->space)
            goto invalid;
        break;
    case BENCH_DIST_ZIPFIAN:
    case BENCH_DIST_LATEST:
        if (count != d->count && bench_zipf_set_n(&d->zipf, count) != 0)
            goto invalid;
        break;
    case BENCH_DIST_SEQUENTIAL:
        if (d->seq >= count)
            d->seq = 0;
        break;
    default:
        break;
    }
    d->count = count;
    return 0;
invalid:
    errno = EINVAL;
    return -1;
}

void bench_dist_seek(bench_dist *d, uint64_t pos)
{
    d->seq = pos % d->count;
}

uint64_t bench_dist_next(bench_dist *d, bench_rng *r)
{
    uint64_t x;
    switch (d->kind) {
    case BENCH_DIST_UNIFORM:
        return bench_rng_below(r, d->count);
    case BENCH_DIST_ZIPFIAN:
        return bench_zipf_next(&d->zipf, r);
    case BENCH_DIST_SCRAMBLED_ZIPFIAN:
        /* Redraw keys not inserted yet (YCSB does the same); the
         * permutation itself never changes, so the hot set stays put. */
        do {
            x = bench_perm_apply(&d->perm, bench_zipf_next(&d->zipf, r));
        } while (x >= d->count);
        return x;
    case BENCH_DIST_LATEST:
        return d->count - 1 - bench_zipf_next(&d->zipf, r);
    case BENCH_DIST_SEQUENTIAL:
        x = d->seq;
        d->seq = x + 1 >= d->count ? 0 : x + 1;
        return x;
    default:
        return 0;
    }
}

static const char *const dist_names[BENCH_DIST_COUNT] = {
    [BENCH_DIST_UNIFORM] = "uniform",
    [BENCH_DIST_ZIPFIAN] = "zipfian",
    [BENCH_DIST_SCRAMBLED_ZIPFIAN] = "scrambled-zipfian",
    [BENCH_DIST_LATEST] = "latest",
    [BENCH_DIST_SEQUENTIAL] = "sequential",
};

const char *bench_dist_name(bench_dist_kind kind)
{
    if ((int)kind < 0 || kind >= BENCH_DIST_COUNT)
        return "?";
    return dist_names[kind];
}

int bench_dist_parse(const char *name, bench_dist_kind *out)
{
    for (int k = 0; k < BENCH_DIST_COUNT; k++) {
        if (strcmp(name, dist_names[k]) == 0) {
            *out = (bench_dist_kind)k;
            return 0;
        }
    }
    if (strcmp(name, "scrambled_zipfian") == 0) {
        *out = BENCH_DIST_SCRAMBLED_ZIPFIAN;
        return 0;
    }
    errno = EINVAL;
    return -1;
}

/* ---- Operation mixes ---------------------------------------------------- */

int bench_opmix_init(bench_opmix *m, const double weight[BENCH_OP_COUNT])
{
    double total = 0.0;
    int last = -1;
    for (int i = 0; i < BENCH_OP_COUNT; i++) {
        if (!(weight[i] >= 0.0) || !isfinite(weight[i])) {
            errno = EINVAL;
            return -1;
        }
        total += weight[i];
        if (weight[i] > 0.0)
            last = i;
    }
    if (last < 0) {
        errno = EINVAL;
        return -1;
    }
    const double scale = 0x1.0p53;
    double cum = 0.0;
    for (int i = 0; i < BENCH_OP_COUNT; i++) {
        cum += weight[i];
        /* From the last positive weight on, the cut is the whole range, so
         * rounding can never hand a draw to a zero-weight operation. */
        m->cut[i] = i >= last ? (UINT64_C(1) << 53)
                              : (uint64_t)(cum / total * scale);
    }
    return 0;
}

const char *bench_op_name(bench_op op)
{
    static const char *const names[BENCH_OP_COUNT] = {
        "read", "update", "insert", "scan", "readmodifywrite"};
    if ((int)op < 0 || op >= BENCH_OP_COUNT)
        return "?";
    return names[op];
}

/* ---- Values ------------------------------------------------------------- */

static uint64_t value_seed(uint64_t key, uint64_t version)
{
    /* Two independent mixes: (key, version) pairs must not collide in an
     * obvious way such as key ^ version. */
    return bench_hash64(key ^ 0x243f6a8885a308d3ULL) ^
           bench_hash64(version + 0x13198a2e03707344ULL);
}

void bench_value_fill(void *buf, size_t len, uint64_t key, uint64_t version)
{
    unsigned char *p = buf;
    uint64_t s = value_seed(key, version);
    size_t i = 0;
    /* Words are independent (a counter through a mixer), so the loop has no
     * serial dependency and runs at the multiplier's throughput. */
    for (; i + 8 <= len; i += 8) {
        uint64_t w = htole64(bench_hash64(s + i * 0x9e3779b97f4a7c15ULL));
        memcpy(p + i, &w, 8);
    }
    if (i < len) {
        uint64_t w = htole64(bench_hash64(s + i * 0x9e3779b97f4a7c15ULL));
        memcpy(p + i, &w, len - i);
    }
}

bool bench_value_check(const void *buf, size_t len, uint64_t key,
                       uint64_t version)
{
    const unsigned char *p = buf;
    uint64_t s = value_seed(key, version);
    for (size_t i = 0; i < len; i += 8) {
        uint64_t w = htole64(bench_hash64(s + i * 0x9e3779b97f4a7c15ULL));
        size_t n = len - i < 8 ? len - i : 8;
        if (memcmp(p + i, &w, n) != 0)
            return false;
    }
    return true;
}
