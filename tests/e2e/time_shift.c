/*
 * time_shift.so - an LD_PRELOAD shim for the end-to-end tests: time()
 * returns the real time plus FK_TIME_SHIFT seconds, so 'fairkey request'
 * can date a request in the past or the future while the log and the agents
 * keep the real clock.  Test code only; never linked into fairkey.
 */
#include <stdlib.h>
#include <time.h>

time_t time(time_t *out);

time_t time(time_t *out)
{
    struct timespec ts;
    const char *s = getenv("FK_TIME_SHIFT");
    clock_gettime(CLOCK_REALTIME, &ts);
    time_t now = ts.tv_sec + (time_t)(s ? strtol(s, NULL, 10) : 0);
    if (out)
        *out = now;
    return now;
}
