/*
 * fairkey transparency page: the formats of docs/log.md, shared by the page
 * (page.js) and its verification workers (verify.js).
 *
 * Signed notes and checkpoints (C2SP signed-note, tlog-checkpoint), verifier
 * keys, witness cosignatures (cosignature/v1), log policies (C2SP
 * tlog-policy), tile paths and entry bundles (C2SP tlog-tiles), and the
 * RFC 6962 Merkle hashes.  Every hash and signature goes through WebCrypto
 * (SHA-256, Ed25519): nothing here is a cryptographic primitive of its own.
 */
'use strict';

const FKT = (() => {
    const enc = new TextEncoder();
    const dec = new TextDecoder('utf-8', {fatal: true});
    const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const B64_INDEX = new Int16Array(256).fill(-1);
    for (let i = 0; i < 64; i++)
        B64_INDEX[B64.charCodeAt(i)] = i;

    /* Largest tree the page reads: as fairkey audit (every entry of a fairkey
     * log is at least ~200 bytes, so 2^40 entries are over 200 TiB); a
     * checkpoint claiming more is refused, never allocated for. */
    const MAX_SIZE = 2 ** 40;
    /* tlog-tiles: a tile holds 256 hashes (8 Merkle levels). */
    const TILE_WIDTH = 256;
    const HASH_LEN = 32;

    class VerifyError extends Error {}
    function fail(msg) { throw new VerifyError(msg); }

    function b64encode(u8, padded = true) {
        let s = '';
        for (let i = 0; i < u8.length; i += 3) {
            const n = (u8[i] << 16) | ((u8[i + 1] || 0) << 8) | (u8[i + 2] || 0);
            const left = u8.length - i;
            s += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
            s += left > 1 ? B64[(n >> 6) & 63] : (padded ? '=' : '');
            s += left > 2 ? B64[n & 63] : (padded ? '=' : '');
        }
        return s;
    }

    /* Strict base64: standard alphabet, padded (signed notes, tlog) or
     * unpadded (age stanzas), canonical trailing bits; null if not. */
    function b64decode(s, padded = true) {
        if (padded) {
            if (s.length % 4)
                return null;
            s = s.replace(/={1,2}$/, '');
        } else if (s.length % 4 === 1) {
            return null;
        }
        const out = new Uint8Array(Math.floor(s.length * 3 / 4));
        let bits = 0, acc = 0, o = 0;
        for (let i = 0; i < s.length; i++) {
            const v = s.charCodeAt(i) < 256 ? B64_INDEX[s.charCodeAt(i)] : -1;
            if (v < 0)
                return null;
            acc = (acc << 6) | v;
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                out[o++] = (acc >> bits) & 0xff;
            }
        }
        if (acc & ((1 << bits) - 1))
            return null;   /* non-canonical: unused bits set */
        return out;
    }

    function hex(u8) {
        let s = '';
        for (const b of u8)
            s += b.toString(16).padStart(2, '0');
        return s;
    }

    function concat(...parts) {
        let n = 0;
        for (const p of parts)
            n += p.length;
        const out = new Uint8Array(n);
        let o = 0;
        for (const p of parts) {
            out.set(p, o);
            o += p.length;
        }
        return out;
    }

    function equal(a, b) {
        if (a.length !== b.length)
            return false;
        for (let i = 0; i < a.length; i++)
            if (a[i] !== b[i])
                return false;
        return true;
    }

    async function sha256(u8) {
        return new Uint8Array(await crypto.subtle.digest('SHA-256', u8));
    }

    /* RFC 6962 / RFC 9162 2.1.1 */
    const ZERO = new Uint8Array([0]), ONE = new Uint8Array([1]);
    function leafHash(entry) { return sha256(concat(ZERO, entry)); }
    function nodeHash(l, r) { return sha256(concat(ONE, l, r)); }

    /* The root of 2^k consecutive hashes (a full tile: k = 8), level by
     * level, each level's hashes requested from WebCrypto at once. */
    async function subtreeRoot(hashes) {
        let level = hashes;
        while (level.length > 1) {
            const next = [];
            for (let i = 0; i < level.length; i += 2)
                next.push(nodeHash(level[i], level[i + 1]));
            level = await Promise.all(next);
        }
        return level[0];
    }

    /* A compact range over [0, n): full subtrees appended left to right
     * (a subtree of height h where the size is a multiple of 2^h), merged
     * as they pair up; its root is the RFC 6962 root of the tree. */
    class Frontier {
        constructor() { this.stack = []; }
        async append(height, hash) {
            this.stack.push({height, hash});
            for (;;) {
                const s = this.stack, k = s.length;
                if (k < 2 || s[k - 2].height !== s[k - 1].height)
                    break;
                const merged = await nodeHash(s[k - 2].hash, s[k - 1].hash);
                s.splice(k - 2, 2, {height: s[k - 2].height + 1, hash: merged});
            }
        }
        async root() {
            const s = this.stack;
            if (!s.length)
                return sha256(new Uint8Array(0));
            let r = s[s.length - 1].hash;
            for (let i = s.length - 2; i >= 0; i--)
                r = await nodeHash(s[i].hash, r);
            return r;
        }
    }

    /* tlog-tiles path of tile (level, index, width): level 'entries' for
     * entry bundles.  <N> in 3-digit groups, all but the last prefixed x. */
    function tilePath(level, index, width) {
        let digits = String(index);
        while (digits.length % 3)
            digits = '0' + digits;
        const groups = [];
        for (let i = 0; i < digits.length; i += 3)
            groups.push(digits.slice(i, i + 3));
        const n = groups.map((g, i) => (i < groups.length - 1 ? 'x' : '') + g).join('/');
        return `tile/${level}/${n}` + (width < TILE_WIDTH ? `.p/${width}` : '');
    }

    /* The tiles of level L (8L Merkle levels up) of a tree of `size` leaves:
     * the full ones and the width of the partial one (0 if none). */
    function tilesAt(level, size) {
        const n = Math.floor(size / TILE_WIDTH ** level);
        return {full: Math.floor(n / TILE_WIDTH), partial: n % TILE_WIDTH};
    }

    /* An entry bundle: W entries, each a big-endian uint16 length and its
     * bytes.  With `exact`, nothing may follow the W-th (a partial bundle
     * read from the full one ignores the rest). */
    function parseBundle(u8, width, exact) {
        const out = [];
        let o = 0;
        while (out.length < width) {
            if (o + 2 > u8.length)
                return null;
            const n = (u8[o] << 8) | u8[o + 1];
            if (o + 2 + n > u8.length)
                return null;
            out.push(u8.subarray(o + 2, o + 2 + n));
            o += 2 + n;
        }
        if (exact && o !== u8.length)
            return null;
        return out;
    }

    /* Fetch a tile (level 0..63 or 'entries') below `base`; a partial one
     * that is gone (404: a log may drop it once the full tile exists) is read
     * from the full tile, as fairkey log verify does.  Network errors and
     * other HTTP statuses throw a plain Error (not a VerifyError). */
    async function fetchTile(base, level, index, width) {
        const path = tilePath(level, index, width);
        const r = await fetch(new URL(path, base));
        if (r.status === 404 && width < TILE_WIDTH) {
            const full = tilePath(level, index, TILE_WIDTH);
            const rf = await fetch(new URL(full, base));
            if (rf.ok)
                return {path: full, bytes: new Uint8Array(await rf.arrayBuffer()), fromFull: true};
        }
        if (!r.ok)
            throw new Error(`${path}: HTTP ${r.status}`);
        return {path, bytes: new Uint8Array(await r.arrayBuffer()), fromFull: false};
    }

    /* ---- signed notes ---------------------------------------------------- */

    const SIG_TYPE_ED25519 = 0x01, SIG_TYPE_COSIGNATURE = 0x04;
    const NAME_MAX = 255, NOTE_MAX = 65535;

    function validName(name) {
        return name.length > 0 && enc.encode(name).length <= NAME_MAX &&
            !/[+\s\u0000-\u001f\u007f\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/.test(name);
    }

    async function keyId(name, type, key) {
        const h = await sha256(concat(enc.encode(name), new Uint8Array([0x0a, type]), key));
        return h.subarray(0, 4);
    }

    /* A verifier key "<name>+<hex id>+<base64(type || key)>" (types 0x01 and
     * 0x04); the key ID must match the name and key. */
    async function parseVkey(text) {
        const s = text.trim();
        const m = /^(.+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(s);
        if (!m || !validName(m[1]))
            fail(`"${s.slice(0, 80)}" is not a verifier key (name+hex key ID+base64 key)`);
        const raw = b64decode(m[3]);
        if (!raw || raw.length !== 33 || (raw[0] !== SIG_TYPE_ED25519 && raw[0] !== SIG_TYPE_COSIGNATURE))
            fail(`verifier key ${m[1]}: not an Ed25519 (0x01) or cosignature/v1 (0x04) key`);
        const key = raw.subarray(1);
        const id = await keyId(m[1], raw[0], key);
        if (hex(id) !== m[2])
            fail(`verifier key ${m[1]}: its key ID does not match its name and key (a copy error?)`);
        return {
            name: m[1], type: raw[0], keyId: id, key, text: s,
            cryptoKey: await crypto.subtle.importKey('raw', key, {name: 'Ed25519'}, false, ['verify']),
        };
    }

    /* A signed note: text ending in "\n", a blank line, signature lines
     * "— <name> <base64(key ID || signature)>". */
    function parseNote(bytes) {
        if (bytes.length > NOTE_MAX)
            fail('the signed note is over 65,535 bytes');
        let s;
        try {
            s = dec.decode(bytes);
        } catch (e) {
            fail('the signed note is not UTF-8');
        }
        if (/[\u0000-\u0009\u000b-\u001f\u007f]/.test(s))
            fail('the signed note holds control characters');
        const split = s.lastIndexOf('\n\n');
        if (split < 0 || !s.endsWith('\n'))
            fail('not a signed note (no blank line before the signatures)');
        const text = s.slice(0, split + 1);
        const sigs = [];
        for (const line of s.slice(split + 2, -1).split('\n')) {
            const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
            const raw = m && validName(m[1]) ? b64decode(m[2]) : null;
            if (!raw || raw.length < 5)
                fail(`malformed signature line "${line.slice(0, 80)}"`);
            sigs.push({name: m[1], keyId: raw.subarray(0, 4), sig: raw.subarray(4)});
        }
        if (!sigs.length)
            fail('the signed note carries no signature');
        return {text, textBytes: enc.encode(text), sigs};
    }

    /* Does signature line `sig` verify under vkey `k`?  For a cosignature,
     * returns its timestamp (seconds) instead of true. */
    async function verifySig(k, sig, textBytes) {
        if (k.type === SIG_TYPE_ED25519) {
            if (sig.sig.length !== 64)
                return false;
            return crypto.subtle.verify({name: 'Ed25519'}, k.cryptoKey, sig.sig, textBytes);
        }
        if (sig.sig.length !== 72)
            return false;
        let t = 0n;
        for (let i = 0; i < 8; i++)
            t = (t << 8n) | BigInt(sig.sig[i]);
        if (t === 0n || t >= 2n ** 63n)
            return false;
        const msg = concat(enc.encode(`cosignature/v1\ntime ${t}\n`), textBytes);
        const ok = await crypto.subtle.verify({name: 'Ed25519'}, k.cryptoKey, sig.sig.subarray(8), msg);
        return ok ? Number(t) : false;
    }

    /* ---- checkpoints ------------------------------------------------------- */

    function parseCheckpointText(text) {
        const lines = text.split('\n');
        lines.pop();   /* the text ends in "\n" */
        if (lines.length < 3)
            fail('the checkpoint has fewer than three lines (origin, size, root)');
        const [origin, sizeText, rootText] = lines;
        if (!origin)
            fail('the checkpoint has an empty origin');
        if (!/^(0|[1-9][0-9]{0,18})$/.test(sizeText))
            fail(`the checkpoint size "${sizeText.slice(0, 30)}" is not a decimal size`);
        const size = Number(sizeText);
        if (size > MAX_SIZE)
            fail(`the checkpoint claims ${sizeText} entries, more than this page reads (2^40): the log is misbehaving`);
        const root = b64decode(rootText);
        if (!root || root.length !== HASH_LEN)
            fail('the checkpoint root is not the base64 of 32 bytes');
        for (const ext of lines.slice(3))
            if (!ext)
                fail('the checkpoint has an empty extension line');
        return {origin, size, root};
    }

    /* ---- log policy (C2SP tlog-policy) ------------------------------------ */

    /* Parse a policy text; `vkey` (optional, parsed) is the log when the
     * policy lists none.  Returns {logs, witnesses, groups, quorum}. */
    async function parsePolicy(text, vkey) {
        const pol = {logs: [], witnesses: new Map(), groups: [], quorum: null, text};
        const names = new Set(['none']);
        const lines = text.split('\n');
        if (lines.pop() !== '')
            fail('policy: the last line does not end in a newline');
        for (let i = 0; i < lines.length; i++) {
            const no = i + 1;
            if (/[^\t\x20-\x7e\x80-\uffff]/.test(lines[i]))
                fail(`policy line ${no}: control characters`);
            const it = lines[i].split(/[ \t]+/).filter(Boolean);
            if (!it.length || it[0].startsWith('#'))
                continue;
            const bad = why => fail(`policy line ${no} is not valid: ${why}`);
            if (it[0] === 'log') {
                if (it.length < 2 || it.length > 3)
                    bad('log <vkey> [<url>]');
                const k = await parseVkey(it[1]);
                if (k.type !== SIG_TYPE_ED25519)
                    bad('a log key must be an Ed25519 (0x01) key');
                pol.logs.push(k);
            } else if (it[0] === 'witness') {
                if (it.length < 3 || it.length > 4)
                    bad('witness <name> <vkey> [<url>]');
                if (names.has(it[1]))
                    bad(`${it[1]} is defined twice`);
                const k = await parseVkey(it[2]);
                if (k.type !== SIG_TYPE_COSIGNATURE)
                    bad('a witness key must be a cosignature/v1 (0x04) key');
                names.add(it[1]);
                pol.witnesses.set(it[1], k);
            } else if (it[0] === 'group') {
                if (it.length < 4)
                    bad('group <name> all|any|<k> <name>...');
                if (names.has(it[1]))
                    bad(`${it[1]} is defined twice`);
                const members = it.slice(3);
                for (const m of members)
                    if (m === 'none' || !names.has(m))
                        bad(`${m} is not a witness or group defined on an earlier line`);
                if (new Set(members).size !== members.length)
                    bad('a member appears twice');
                let k = it[2] === 'all' ? members.length : it[2] === 'any' ? 1 :
                    /^[1-9][0-9]*$/.test(it[2]) ? Number(it[2]) : NaN;
                if (!(k >= 1 && k <= members.length))
                    bad(`threshold ${it[2]} is not all, any or 1..${members.length}`);
                names.add(it[1]);
                pol.groups.push({name: it[1], k, members});
            } else if (it[0] === 'quorum') {
                if (it.length !== 2 || pol.quorum !== null)
                    bad('exactly one quorum <name>|none');
                if (!names.has(it[1]))
                    bad(`${it[1]} is not defined on an earlier line`);
                pol.quorum = it[1];
            } else {
                bad(`unknown keyword "${it[0].slice(0, 20)}"`);
            }
        }
        if (pol.quorum === null)
            fail('policy: no quorum line');
        if (!pol.logs.length && vkey)
            pol.logs.push(vkey);
        if (!pol.logs.length)
            fail('policy: it names no log and no log key was given');
        return pol;
    }

    function policyOfLog(vkey) {
        return {logs: [vkey], witnesses: new Map(), groups: [], quorum: 'none', text: null};
    }

    /* Verify a signed checkpoint under a policy (docs/log.md 9.2): every
     * signature line of a policy key verifies, a policy log whose name is
     * the origin signed it, and the witness quorum holds.  Throws a
     * VerifyError saying what failed, else returns what was verified. */
    async function verifyCheckpoint(bytes, pol) {
        const note = parseNote(bytes);
        const cp = parseCheckpointText(note.text);
        const keys = [...pol.logs, ...pol.witnesses.values()];
        let logOk = null;
        const cosigned = new Map();   /* witness vkey name -> timestamp */
        for (const sig of note.sigs) {
            const k = keys.find(k => k.name === sig.name && equal(k.keyId, sig.keyId));
            if (!k)
                continue;   /* a key this policy does not know: ignored */
            const ok = await verifySig(k, sig, note.textBytes);
            if (ok === false)
                fail(`the signature line of ${sig.name} (key ID ${hex(sig.keyId)}) does NOT verify: the checkpoint was altered or forged`);
            if (k.type === SIG_TYPE_ED25519)
                logOk = logOk || k;
            else
                cosigned.set(k, ok);
        }
        if (!logOk)
            fail(`the checkpoint carries no valid signature of the log key${pol.logs.length > 1 ? 's' : ''} ${pol.logs.map(k => k.name + '+' + hex(k.keyId)).join(', ')}`);
        if (logOk.name !== cp.origin)
            fail(`the checkpoint's origin "${cp.origin}" is not the name of the log key that signed it ("${logOk.name}")`);
        const met = new Map([['none', true]]);
        const witnessed = [];
        for (const [name, k] of pol.witnesses) {
            met.set(name, cosigned.has(k));
            if (cosigned.has(k))
                witnessed.push({name, time: cosigned.get(k)});
        }
        for (const g of pol.groups)
            met.set(g.name, g.members.filter(m => met.get(m)).length >= g.k);
        if (!met.get(pol.quorum))
            fail(`the checkpoint lacks the witness cosignatures the policy requires (quorum ${pol.quorum}; ${witnessed.length} of ${pol.witnesses.size} witnesses cosigned)`);
        return {...cp, log: logOk, witnessed, note};
    }

    /* Freshness (fairkey audit --max-age, docs/protocol.md 7): is the
     * policy's quorum met by cosignatures timed at or after `notBefore`
     * (seconds)?  `witnessed` is verifyCheckpoint's list of {name, time}.
     * A policy of quorum none has nothing to date a checkpoint by: null. */
    function quorumSince(pol, witnessed, notBefore) {
        if (pol.quorum === 'none' || !pol.witnesses.size)
            return null;
        const met = new Map([['none', true]]);
        for (const name of pol.witnesses.keys())
            met.set(name, witnessed.some(w => w.name === name && w.time >= notBefore));
        for (const g of pol.groups)
            met.set(g.name, g.members.filter(m => met.get(m)).length >= g.k);
        return met.get(pol.quorum) === true;
    }

    /* The RFC 6962 root of the first m leaves of a tree, from a function
     * node(height, index) giving the hash of the full subtree of 2^height
     * leaves starting at leaf index * 2^height: the compact range of [0, m),
     * largest subtree first. */
    async function prefixRoot(m, node) {
        const fr = new Frontier();
        let pos = 0;
        for (let h = 40; h >= 0; h--) {
            const span = 2 ** h;
            if (Math.floor(m / span) % 2) {
                await fr.append(h, await node(h, pos / span));
                pos += span;
            }
        }
        return fr.root();
    }

    return {
        quorumSince, prefixRoot,
        MAX_SIZE, TILE_WIDTH, HASH_LEN, VerifyError, fail,
        b64encode, b64decode, hex, concat, equal, sha256, leafHash, nodeHash, subtreeRoot,
        Frontier, tilePath, tilesAt, fetchTile, parseBundle, parseNote, parseVkey, keyId, verifySig,
        parseCheckpointText, parsePolicy, policyOfLog, verifyCheckpoint,
        SIG_TYPE_ED25519, SIG_TYPE_COSIGNATURE, enc, dec,
    };
})();

if (typeof module !== 'undefined')
    module.exports = FKT;
