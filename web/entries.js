/*
 * fairkey transparency page: the kinds of log entry, in one table.
 *
 * A log entry's kind is decided by its first line, as the log itself
 * decides it (fki_log_admit_check, docs/log.md 7).  Each row of
 * FK_ENTRY_KINDS says how to recognise, parse and show one kind; adding a
 * kind (a source-code deposit record, say) is adding one row here: the
 * workers parse it, the page counts it, lists it under its label and
 * searches its fields with no other change.
 *
 * parse(bytes, text) returns the record's fields, or null when the entry
 * starts like the kind but is not one (counted as malformed, never listed:
 * fairkey audit ignores such entries too).  Fields the table shows:
 *   time     Date.UTC milliseconds or null
 *   who      the party that made the entry (requester, authority id)
 *   authority, reason, warrant, detail   strings, '' when the kind has none
 *   target   (requests) the b64 E the owner check compares
 * check(fields, bytes) (optional, async): the entry's own signature; false
 * makes it malformed.  Runs in the verification workers.
 *
 * A source deposit (docs/protocol.md 10) is listed with its vendor as `who`
 * and its target E; its inspections are the requests naming that E, so the
 * owner check of the deposited ciphertext lists them.
 */
'use strict';

const FK_ENTRY_KINDS = (() => {
    const B64_32 = '([A-Za-z0-9+/]{42}[AEIMQUYcgkosw048])';   /* canonical b64 of 32 bytes */

    /* RFC 3339 UTC, seconds, 'Z', years 1970..9999 (docs/protocol.md 2.1). */
    function parseTime(s) {
        const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z$/.exec(s);
        if (!m)
            return null;
        const [y, mo, d, h, mi, se] = m.slice(1).map(Number);
        const t = Date.UTC(y, mo - 1, d, h, mi, se);
        const back = new Date(t);
        if (y < 1970 || back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 ||
            back.getUTCDate() !== d || back.getUTCHours() !== h || back.getUTCMinutes() !== mi ||
            back.getUTCSeconds() !== se)
            return null;   /* 24:00, 02-30, leap seconds ... */
        return t;
    }

    /* docs/protocol.md 2.1: exactly eight lines, each as the encoder writes it. */
    const REQUEST_LINES = [
        /^fairkey recovery request v2$/,
        /^authority ([\x21-\x7e]{1,128})$/,
        new RegExp(`^target ${B64_32} ${B64_32} ([A-Za-z0-9+/]{128})$`),
        new RegExp(`^requester ([\\x21-\\x2a\\x2c-\\x7e]{1,128}) ${B64_32}$`),
        new RegExp(`^reply-to ${B64_32}$`),
        /^warrant ([0-9a-f]{64})$/,
        /^reason ([^\x00-\x1f\x7f](?:[^\x00-\x1f\x7f]*[^\x00-\x1f\x7f ])?)$/,
        /^time (.{20})$/,
    ];

    function parseRequest(bytes, entryText) {
        /* The entry is a signed note: the request text, a blank line, one
         * signature line by the requester's key. */
        const split = entryText.lastIndexOf('\n\n');
        if (split < 0)
            return null;
        const lines = entryText.slice(0, split + 1).split('\n');
        if (lines.pop() !== '' || lines.length !== REQUEST_LINES.length)
            return null;
        const m = lines.map((l, i) => REQUEST_LINES[i].exec(l));
        if (m.some(x => !x))
            return null;
        const reason = m[6][1];
        const time = parseTime(m[7][1]);
        if (time === null || new TextEncoder().encode(reason).length > 1024)
            return null;
        return {
            time, who: m[3][1], authority: m[1][1], reason, warrant: m[5][1],
            target: m[2][1], targetEbar: m[2][2], signerKey: m[3][2], replyTo: m[4][1],
            detail: '',
        };
    }

    /* docs/protocol.md 10.1: a source deposit record, its binary lines
     * (0 to 12) between ciphertext and time. */
    const TOKEN = '[\\x21-\\x7e]';
    const DEPOSIT_HEAD = [
        /^fairkey source deposit v1$/,
        /^authority ([\x21-\x7e]{1,128})$/,
        new RegExp(`^target ${B64_32} ${B64_32} ([A-Za-z0-9+/]{128})$`),
        new RegExp(`^vendor ([\\x21-\\x2a\\x2c-\\x7e]{1,128}) ${B64_32}$`),
        new RegExp(`^product (${TOKEN}{1,64})$`),
        new RegExp(`^version (${TOKEN}{1,64})$`),
        /^archive ([0-9a-f]{64}) (0|[1-9][0-9]{0,18})$/,
        /^ciphertext ([0-9a-f]{64}) (0|[1-9][0-9]{0,18})$/,
    ];
    const DEPOSIT_BINARY = /^binary ([0-9a-f]{64}) ([\x21-\x7e]{1,128})$/;

    function parseDeposit(bytes, entryText) {
        const split = entryText.lastIndexOf('\n\n');
        if (split < 0)
            return null;
        const lines = entryText.slice(0, split + 1).split('\n');
        if (lines.pop() !== '' || lines.length < DEPOSIT_HEAD.length + 1 ||
            lines.length > DEPOSIT_HEAD.length + 13)
            return null;
        const m = DEPOSIT_HEAD.map((re, i) => re.exec(lines[i]));
        const bins = lines.slice(DEPOSIT_HEAD.length, -1).map(l => DEPOSIT_BINARY.exec(l));
        const tm = /^time (.{20})$/.exec(lines[lines.length - 1]);
        const time = tm ? parseTime(tm[1]) : null;
        if (m.some(x => !x) || bins.some(x => !x) || time === null)
            return null;
        return {
            time, who: m[3][1], authority: m[1][1], reason: '', warrant: '',
            target: m[2][1], signerKey: m[3][2],
            detail: `source deposit of ${m[4][1]} ${m[5][1]}: archive SHA-256 ${m[6][1]} ` +
                `(${m[6][2]} bytes), ciphertext SHA-256 ${m[7][1]}` +
                (bins.length ? `, ${bins.length} binar${bins.length > 1 ? 'ies' : 'y'}: ` +
                    bins.map(b => b[2]).join(', ') : ''),
        };
    }

    /* The entry's one signature, by the key and name it names (a request,
     * docs/protocol.md 2.2; a deposit record, 10.2). */
    const keyCache = new Map();
    async function checkSignedBy(f, bytes) {
        let note;
        try {
            note = FKT.parseNote(bytes);
        } catch (e) {
            return false;
        }
        if (note.sigs.length !== 1 || note.sigs[0].name !== f.who)
            return false;
        let k = keyCache.get(f.who + ' ' + f.signerKey);
        if (!k) {
            const raw = FKT.b64decode(f.signerKey, false);
            k = {
                type: FKT.SIG_TYPE_ED25519, keyId: await FKT.keyId(f.who, FKT.SIG_TYPE_ED25519, raw),
                cryptoKey: await crypto.subtle.importKey('raw', raw, {name: 'Ed25519'}, false, ['verify']),
            };
            if (keyCache.size > 10000)
                keyCache.clear();
            keyCache.set(f.who + ' ' + f.signerKey, k);
        }
        if (!FKT.equal(k.keyId, note.sigs[0].keyId))
            return false;
        return FKT.verifySig(k, note.sigs[0], note.textBytes);
    }

    /* Lines "key value" of an entry, by key (first occurrence). */
    function fieldLines(text) {
        const out = new Map();
        for (const l of text.split('\n')) {
            const sp = l.indexOf(' ');
            if (sp > 0 && !out.has(l.slice(0, sp)))
                out.set(l.slice(0, sp), l.slice(sp + 1));
        }
        return out;
    }

    function authorityEntry(detailOf) {
        return (bytes, text) => {
            const f = fieldLines(text);
            const id = f.get('authority') || f.get('id') || '';
            return {time: null, who: id, authority: id, reason: '', warrant: '', detail: detailOf(f)};
        };
    }

    return [
        {
            id: 'request', firstLine: 'fairkey recovery request v2', label: 'recovery request',
            plural: 'recovery requests', parse: parseRequest, check: checkSignedBy,
        },
        {
            id: 'deposit', firstLine: 'fairkey source deposit v1', label: 'source deposit',
            plural: 'source deposits', parse: parseDeposit, check: checkSignedBy,
        },
        {
            id: 'transcript', firstLine: 'fairkey authority transcript v1',
            label: 'authority transcript', plural: 'authority transcripts (dealerless births)',
            parse: authorityEntry(() => 'certified transcript of a dealerless authority'),
        },
        {
            id: 'transcript-hash', firstLine: 'fairkey authority transcript-hash v1',
            label: 'authority transcript hash', plural: 'authority transcript hashes',
            parse: authorityEntry(f => 'transcript SHA-256 ' + (f.get('transcript-sha256') || '?')),
        },
        {
            id: 'reshare', firstLine: 'fairkey authority reshare v1', label: 'authority reshare',
            plural: 'authority reshares',
            parse: authorityEntry(f => 'new authority ' + (f.get('new-authority') || '?')),
        },
    ];
})();

/* The kind of an entry from its first line; null for none of the table's. */
function fkEntryKind(firstLine) {
    for (const k of FK_ENTRY_KINDS)
        if (k.firstLine === firstLine)
            return k;
    return null;
}
