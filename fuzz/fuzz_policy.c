/* libFuzzer: C2SP tlog-policy files.  A policy that parses keeps every
 * structural promise (counts within limits, thresholds 1..n, members and
 * quorum defined earlier); failures leave it zeroed; checking a real signed
 * checkpoint against any parsed policy never crashes. */
#include <stdlib.h>
#include <string.h>

#include <fairkey.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Tessera's checkpoint.15 (tests/vectors/merkle/tessera-posix-log). */
static const char CP[] =
    "example.com/log/testdata\n15\nrKbDipCvhuX1GZ7g5BBe8sA6BbJ7ja/1nk427v383cs=\n\n"
    "\xe2\x80\x94 example.com/log/testdata "
    "M9e0luh4jTG+UMBqOUo9/q+yAEvx1ilBEniMvjf1zfcBOhg+CKubMt53MvIt/uEWP6zdkdIQzd/fmwlM/dlPWF74ewI=\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fk_tlog_policy p;
    size_t line = 0;
    fk_err err = fk_tlog_policy_parse(&p, (const char *)data, size, &line);
    if (err) {
        if (p.nlogs || p.nwitnesses || p.ngroups)
            abort();
        return 0;
    }
    if (line != 0 || p.nlogs > FK_TLOG_POLICY_MAX_LOGS ||
        p.nwitnesses > FK_TLOG_POLICY_MAX_WITNESSES || p.ngroups > FK_TLOG_POLICY_MAX_GROUPS)
        abort();
    for (size_t g = 0; g < p.ngroups; g++) {
        const fk_tlog_policy_group *gr = &p.groups[g];
        if (gr->nmembers == 0 || gr->threshold < 1 || gr->threshold > gr->nmembers)
            abort();
        for (unsigned m = 0; m < gr->nmembers; m++) {
            unsigned node = gr->member[m];
            if (node < FK_TLOG_POLICY_GROUP_BASE ? node >= p.nwitnesses
                                                 : node - FK_TLOG_POLICY_GROUP_BASE >= g)
                abort();
        }
    }
    if (p.quorum != FK_TLOG_POLICY_NONE &&
        (p.quorum < 0 || (p.quorum < FK_TLOG_POLICY_GROUP_BASE
                              ? (size_t)p.quorum >= p.nwitnesses
                              : (size_t)(p.quorum - FK_TLOG_POLICY_GROUP_BASE) >= p.ngroups)))
        abort();
    fk_checkpoint c;
    fk_tlog_policy_check(&p, CP, sizeof CP - 1, &c, NULL);
    return 0;
}
