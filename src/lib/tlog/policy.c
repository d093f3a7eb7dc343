/* C2SP tlog-policy: parse a policy file, judge a checkpoint by it. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tlog/internal.h"

/* Most items on one line: "group <name> <k>" and one of each name a
 * policy can define (a longer line necessarily repeats or invents one). */
#define MAX_ITEMS (3 + FK_TLOG_POLICY_MAX_WITNESSES + FK_TLOG_POLICY_MAX_GROUPS)

struct item {
    const char *s;
    size_t len;
};

static bool is_ws(char c)
{
    return c == ' ' || c == '\t';
}

/* The spec's character set: tab, newline, printable ASCII, any high octet. */
static bool octet_ok(unsigned char c)
{
    return c == '\t' || c == '\n' || (c >= 0x20 && c != 0x7f);
}

static bool item_is(const struct item *it, const char *word)
{
    size_t n = strlen(word);
    return it->len == n && memcmp(it->s, word, n) == 0;
}

/* Node number of a defined witness or group name, or -1. */
static int lookup(const fk_tlog_policy *p, const struct item *it)
{
    for (size_t i = 0; i < p->nwitnesses; i++)
        if (p->witness_name_len[i] == it->len && !memcmp(p->witness_name[i], it->s, it->len))
            return (int)i;
    for (size_t i = 0; i < p->ngroups; i++)
        if (p->groups[i].name_len == it->len && !memcmp(p->groups[i].name, it->s, it->len))
            return FK_TLOG_POLICY_GROUP_BASE + (int)i;
    return -1;
}

/* A name for a new witness or group: within limits, not "none", not taken. */
static fk_err new_name(const fk_tlog_policy *p, const struct item *it)
{
    if (it->len > FK_TLOG_POLICY_NAME_MAX)
        return FK_ERR_LIMIT;
    if (item_is(it, "none") || lookup(p, it) >= 0)
        return FK_ERR_INVALID;
    return FK_OK;
}

/* A vkey of the type this role needs (0x01 logs, 0x04 witnesses). */
static fk_err parse_key(fk_note_verifier *v, const struct item *it, uint8_t alg)
{
    if (it->len > FK_NOTE_KEY_TEXT_MAX)
        return FK_ERR_LIMIT;
    fk_err err = fk_note_verifier_parse(v, it->s, it->len);
    if (err)
        return err;
    return v->alg == alg ? FK_OK : FK_ERR_INVALID;
}

static fk_err copy_url(char out[FK_TLOG_POLICY_URL_MAX + 1], const struct item *it)
{
    if (it->len > FK_TLOG_POLICY_URL_MAX)
        return FK_ERR_LIMIT;
    memcpy(out, it->s, it->len);
    out[it->len] = 0;
    return FK_OK;
}

/* Duplicate keys are the same public key whatever the name and key ID
 * (tlog-policy).  A key that is both a log and a witness is refused too:
 * a log cannot witness itself. */
static bool key_taken(const fk_tlog_policy *p, const uint8_t pub[32])
{
    for (size_t i = 0; i < p->nlogs; i++)
        if (!memcmp(p->logs[i].pub, pub, 32))
            return true;
    for (size_t i = 0; i < p->nwitnesses; i++)
        if (!memcmp(p->witnesses[i].pub, pub, 32))
            return true;
    return false;
}

fk_err fk_tlog_policy_add_log(fk_tlog_policy *p, const fk_note_verifier *log)
{
    if (!p || !log)
        abort();
    if (log->alg != FK_NOTE_ALG_ED25519 || key_taken(p, log->pub))
        return FK_ERR_INVALID;
    if (p->nlogs == FK_TLOG_POLICY_MAX_LOGS)
        return FK_ERR_LIMIT;
    p->logs[p->nlogs] = *log;
    p->log_url[p->nlogs][0] = 0;
    p->nlogs++;
    return FK_OK;
}

static fk_err log_line(fk_tlog_policy *p, const struct item *it, size_t n)
{
    fk_note_verifier v;
    fk_err err;
    if (n < 2 || n > 3)
        return FK_ERR_INVALID;
    if ((err = parse_key(&v, &it[1], FK_NOTE_ALG_ED25519)) || (err = fk_tlog_policy_add_log(p, &v)))
        return err;
    return n == 3 ? copy_url(p->log_url[p->nlogs - 1], &it[2]) : FK_OK;
}

static fk_err witness_line(fk_tlog_policy *p, const struct item *it, size_t n)
{
    fk_note_verifier v;
    fk_err err;
    if (n < 3 || n > 4)
        return FK_ERR_INVALID;
    if ((err = new_name(p, &it[1])) || (err = parse_key(&v, &it[2], FK_NOTE_ALG_COSIG_V1)))
        return err;
    if (key_taken(p, v.pub))
        return FK_ERR_INVALID;
    if (p->nwitnesses == FK_TLOG_POLICY_MAX_WITNESSES)
        return FK_ERR_LIMIT;
    size_t w = p->nwitnesses;
    if (n == 4 && (err = copy_url(p->witness_url[w], &it[3])))
        return err;
    p->witnesses[w] = v;
    memcpy(p->witness_name[w], it[1].s, it[1].len);
    p->witness_name[w][it[1].len] = 0;
    p->witness_name_len[w] = it[1].len;
    p->nwitnesses++;
    return FK_OK;
}

/* A threshold: "any", "all", or decimal 1..n without leading zeros. */
static fk_err threshold(unsigned *k, const struct item *it, unsigned n)
{
    uint64_t v;
    if (item_is(it, "any")) {
        *k = 1;
        return FK_OK;
    }
    if (item_is(it, "all")) {
        *k = n;
        return FK_OK;
    }
    for (size_t i = 0; i < it->len; i++)
        if (it->s[i] < '0' || it->s[i] > '9')
            return FK_ERR_INVALID;
    if (fki_parse_u64(&v, it->s, it->len, n) || v == 0)
        return FK_ERR_INVALID;
    *k = (unsigned)v;
    return FK_OK;
}

static fk_err group_line(fk_tlog_policy *p, const struct item *it, size_t n)
{
    fk_tlog_policy_group *g;
    fk_err err;
    if (n < 4)
        return FK_ERR_INVALID; /* at least one member */
    if ((err = new_name(p, &it[1])))
        return err;
    if (p->ngroups == FK_TLOG_POLICY_MAX_GROUPS)
        return FK_ERR_LIMIT;
    g = &p->groups[p->ngroups];
    memset(g, 0, sizeof *g);
    for (size_t i = 3; i < n; i++) {
        /* Only names defined earlier: this also rules out cycles. */
        int node = lookup(p, &it[i]);
        if (node < 0)
            return FK_ERR_INVALID; /* undefined, or "none" */
        for (unsigned j = 0; j < g->nmembers; j++)
            if (g->member[j] == node)
                return FK_ERR_INVALID;
        g->member[g->nmembers++] = (uint8_t)node;
    }
    if ((err = threshold(&g->threshold, &it[2], g->nmembers)))
        return err;
    memcpy(g->name, it[1].s, it[1].len);
    g->name[it[1].len] = 0;
    g->name_len = it[1].len;
    p->ngroups++;
    return FK_OK;
}

static fk_err quorum_line(fk_tlog_policy *p, const struct item *it, size_t n, bool *seen)
{
    if (n != 2 || *seen)
        return FK_ERR_INVALID;
    if (item_is(&it[1], "none")) {
        p->quorum = FK_TLOG_POLICY_NONE;
    } else {
        int node = lookup(p, &it[1]);
        if (node < 0)
            return FK_ERR_INVALID;
        p->quorum = node;
    }
    *seen = true;
    return FK_OK;
}

/* Split one line (without its '\n') into whitespace-separated items. */
static fk_err split(const char *s, size_t len, struct item *it, size_t *n)
{
    size_t i = 0, k = 0;
    for (;;) {
        while (i < len && is_ws(s[i]))
            i++;
        if (i == len)
            break;
        if (k == MAX_ITEMS)
            return FK_ERR_LIMIT;
        it[k].s = s + i;
        while (i < len && !is_ws(s[i]))
            i++;
        it[k].len = (size_t)(s + i - it[k].s);
        k++;
    }
    *n = k;
    return FK_OK;
}

static fk_err parse(fk_tlog_policy *p, const char *text, size_t len, size_t *lineno)
{
    struct item it[MAX_ITEMS];
    size_t pos = 0, n;
    bool seen = false;
    fk_err err;
    *lineno = 0;
    if (len > FK_TLOG_POLICY_MAX_SIZE)
        return FK_ERR_LIMIT;
    p->quorum = FK_TLOG_POLICY_NONE;
    while (pos < len) {
        size_t ll = fki_line_len(text + pos, len - pos);
        const char *l = text + pos;
        ++*lineno;
        if (pos + ll == len)
            return FK_ERR_INVALID; /* every line ends in '\n' */
        for (size_t i = 0; i < ll; i++)
            if (!octet_ok((unsigned char)l[i]))
                return FK_ERR_INVALID;
        pos += ll + 1;
        size_t lead = 0;
        while (lead < ll && is_ws(l[lead]))
            lead++;
        if (lead == ll || l[lead] == '#')
            continue; /* blank or comment (of any length: not split) */
        if ((err = split(l, ll, it, &n)))
            return err;
        if (item_is(&it[0], "log"))
            err = log_line(p, it, n);
        else if (item_is(&it[0], "witness"))
            err = witness_line(p, it, n);
        else if (item_is(&it[0], "group"))
            err = group_line(p, it, n);
        else if (item_is(&it[0], "quorum"))
            err = quorum_line(p, it, n, &seen);
        else
            err = FK_ERR_INVALID;
        if (err)
            return err;
    }
    if (!seen) {
        *lineno = 0;
        return FK_ERR_INVALID; /* the quorum is mandatory */
    }
    return FK_OK;
}

fk_err fk_tlog_policy_parse(fk_tlog_policy *p, const char *text, size_t len, size_t *line)
{
    size_t lineno = 0;
    if (!p || (!text && len))
        abort();
    memset(p, 0, sizeof *p);
    fk_err err = parse(p, text, len, &lineno);
    if (err)
        memset(p, 0, sizeof *p);
    if (line)
        *line = err ? lineno : 0;
    return err;
}

fk_err fk_tlog_policy_from_log(fk_tlog_policy *p, const fk_note_verifier *log)
{
    if (!p || !log)
        abort();
    memset(p, 0, sizeof *p);
    p->quorum = FK_TLOG_POLICY_NONE;
    return fk_tlog_policy_add_log(p, log);
}

fk_err fk_tlog_policy_find_log(const fk_tlog_policy *p, const fk_note_verifier *log, size_t *index)
{
    if (!p || !log || !index)
        abort();
    for (size_t i = 0; i < p->nlogs; i++) {
        const fk_note_verifier *v = &p->logs[i];
        if (v->alg == log->alg && v->key_id == log->key_id && v->name_len == log->name_len &&
            !memcmp(v->name, log->name, v->name_len) && !memcmp(v->pub, log->pub, 32)) {
            *index = i;
            return FK_OK;
        }
    }
    return FK_ERR_NOT_FOUND;
}

/* Is the quorum met by the witnesses in mask? */
static bool quorum_met(const fk_tlog_policy *p, uint64_t mask)
{
    bool val[FK_TLOG_POLICY_GROUP_BASE + FK_TLOG_POLICY_MAX_GROUPS] = {false};
    for (size_t w = 0; w < p->nwitnesses; w++)
        val[w] = (mask >> w) & 1;
    /* Members are defined before their group, so one pass in order works. */
    for (size_t g = 0; g < p->ngroups; g++) {
        const fk_tlog_policy_group *gr = &p->groups[g];
        unsigned got = 0;
        for (unsigned m = 0; m < gr->nmembers; m++)
            got += val[gr->member[m]];
        val[FK_TLOG_POLICY_GROUP_BASE + g] = got >= gr->threshold;
    }
    if (p->quorum == FK_TLOG_POLICY_NONE)
        return true;
    if (p->quorum < 0 || (size_t)p->quorum >= sizeof val / sizeof val[0])
        abort(); /* not a parsed policy */
    return val[p->quorum];
}

/* The policy witnesses whose cosignature lines in n verify. */
static fk_err verified_witnesses(const fk_tlog_policy *p, const fk_note *n, uint64_t *mask)
{
    bool any = false;
    *mask = 0;
    /* fk_note_verify says FK_ERR_SIGNATURE both for a bad line and for no
     * known line at all; only the first is an error here. */
    for (size_t i = 0; i < n->nsigs && !any; i++)
        for (size_t w = 0; w < p->nwitnesses && !any; w++)
            any = n->sigs[i].key_id == p->witnesses[w].key_id &&
                  n->sigs[i].name_len == p->witnesses[w].name_len &&
                  !memcmp(n->sigs[i].name, p->witnesses[w].name, n->sigs[i].name_len);
    return any ? fk_note_verify(n, p->witnesses, p->nwitnesses, mask) : FK_OK;
}

fk_err fk_tlog_policy_quorum(const fk_tlog_policy *p, const fk_note *n, uint64_t *witnessed)
{
    uint64_t mask;
    fk_err err;
    if (!p || !n)
        abort();
    if ((err = verified_witnesses(p, n, &mask)))
        return err;
    if (witnessed)
        *witnessed = mask;
    return quorum_met(p, mask) ? FK_OK : FK_ERR_POLICY;
}

fk_err fk_tlog_policy_quorum_since(const fk_tlog_policy *p, const fk_note *n, uint64_t not_before,
                                   uint64_t *witnessed, uint64_t *fresh, uint64_t *newest)
{
    uint64_t mask, recent = 0, top = 0;
    fk_err err;
    if (!p || !n)
        abort();
    if ((err = verified_witnesses(p, n, &mask)))
        return err;
    for (size_t w = 0; w < p->nwitnesses; w++) {
        uint64_t t;
        if (!((mask >> w) & 1))
            continue;
        if ((err = fk_note_cosig_time(n, &p->witnesses[w], &t)))
            return err;
        if (t > top)
            top = t;
        if (t >= not_before)
            recent |= (uint64_t)1 << w;
    }
    if (witnessed)
        *witnessed = mask;
    if (fresh)
        *fresh = recent;
    if (newest)
        *newest = top;
    return quorum_met(p, recent) ? FK_OK : FK_ERR_POLICY;
}

fk_err fk_tlog_policy_check(const fk_tlog_policy *p, const char *buf, size_t len, fk_checkpoint *cp,
                            fk_note *note)
{
    fk_note n;
    fk_checkpoint c;
    uint64_t logs = 0;
    fk_err err;
    bool named = false;
    if (!p || !buf)
        abort();
    if ((err = fk_note_parse(&n, buf, len)))
        return err;
    if (p->nlogs == 0)
        return FK_ERR_SIGNATURE;
    if ((err = fk_note_verify(&n, p->logs, p->nlogs, &logs)))
        return err;
    if ((err = fk_checkpoint_parse(&c, n.text, n.text_len)))
        return err;
    /* The log's key name is its origin (tlog-policy, tlog-checkpoint). */
    for (size_t i = 0; i < p->nlogs && !named; i++)
        named = ((logs >> i) & 1) && p->logs[i].name_len == c.origin_len &&
                !memcmp(p->logs[i].name, c.origin, c.origin_len);
    if (!named)
        return FK_ERR_INVALID;
    if ((err = fk_tlog_policy_quorum(p, &n, NULL)))
        return err;
    if (cp)
        *cp = c;
    if (note)
        *note = n;
    return FK_OK;
}
