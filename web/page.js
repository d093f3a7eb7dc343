/*
 * fairkey transparency page: fetch and verify the log, list its recovery
 * requests, chart them, and check a file's escrow stanzas against them.
 *
 * Verification, in order (docs/log.md, "The transparency page"):
 *  1. the trust anchor: ?policy=URL (C2SP tlog-policy), ?vkey=VKEY, a
 *     `policy` file next to the checkpoint, or the `vkey` the log publishes
 *     (trusted on first use, remembered in this browser);
 *  2. the checkpoint: its log signature (Ed25519) and the witness quorum of
 *     the policy (cosignature/v1), WebCrypto;
 *  3. every level-0 tile, in Web Workers (verify.js): leaf hashes of the
 *     entry bundle = the hash tile; the root of each full tile;
 *  4. every higher hash tile = the roots of the tiles below it, and the
 *     RFC 6962 root of the whole tree = the checkpoint's root;
 *  5. freshness, as fairkey audit --max-age: under a policy with witnesses
 *     the quorum must be met by cosignatures at most max-age old (browser
 *     clock), else the view is STALE; and no rollback: the largest tree this
 *     browser verified for the log (local storage) may not shrink, and its
 *     root must be the root of the same leaves recomputed from the tiles.
 * Until step 4 passes, nothing shown is called verified.
 */
'use strict';

const PAGE_ROWS = 100;
/* Workers: one per core, at most 4 (the page shares the machine). */
const WORKERS = Math.max(1, Math.min(navigator.hardwareConcurrency || 2, 4));
/* Tiles in flight per worker: enough to overlap fetching and hashing. */
const PER_WORKER = 6;
/* Redraw the list and charts at most this often while loading (ms). */
const REDRAW_MS = 400;
/* An age header is read from the first 1 MiB (4 MiB armored). */
const HEADER_READ_MAX = 1 << 20;
/* Default ?max-age=: a day, as fairkey audit --max-age. */
const DEFAULT_MAX_AGE = 86400;

const $ = id => document.getElementById(id);
const st = {
    base: null, cp: null, records: [], counts: {}, malformed: {}, tilesDone: 0, tilesTotal: 0,
    state: 'loading', failure: null, page: 0, filtered: [], redrawPending: false,
    done: null, startedAt: performance.now(), verifiedAt: null,
    /* freshness: {judged, fresh, maxAge, newestAge}; levels: the verified
     * subtree roots, levels[L] at height 8L; seen: {size, root} remembered */
    fresh: null, levels: [], level8: [], partialLeaves: null, seen: null,
};
let resolveDone;
st.done = new Promise(r => { resolveDone = r; });
window.fairkeyPage = st;   /* for tests and the benchmark: st.state, st.verifiedAt */

function el(tag, attrs = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
        if (k === 'class')
            e.className = v;
        else
            e.setAttribute(k, v);
    }
    for (const c of children)
        e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
}

function fmtInt(n) { return n.toLocaleString('en-US'); }
function fmtTime(ms) { return ms === null ? '' : new Date(ms).toISOString().replace('.000Z', 'Z'); }
function monthOf(ms) { return ms === null ? '' : new Date(ms).toISOString().slice(0, 7); }
function short(s, n = 16) { return s.length > n ? s.slice(0, n) + '…' : s; }

/* ---- status ------------------------------------------------------------- */

function setStatus(state, title, detail = '') {
    const s = $('status');
    s.className = 'status ' + state;
    $('status-title').textContent = title;
    $('status-detail').textContent = detail;
}

function failVerification(msg, network) {
    if (st.state === 'fail')
        return;
    st.state = 'fail';
    st.failure = msg;
    setStatus('fail', network ? 'The log could not be read: nothing here is verified'
                              : 'VERIFICATION FAILED: do not rely on anything this page shows', msg);
    document.body.classList.add('failed');
    trustRow('Result', el('span', {class: 'bad'}, 'FAILED: ' + msg));
    redraw(true);
    resolveDone();
}

function trustRow(term, ...def) {
    $('trust-list').append(el('dt', {}, term), el('dd', {}, ...def));
}

/* ---- trust anchor ----------------------------------------------------- */

async function fetchText(url, what) {
    const r = await fetch(url, {cache: 'no-store'});
    if (!r.ok)
        throw new Error(`${what} (${url}): HTTP ${r.status}`);
    return new Uint8Array(await r.arrayBuffer());
}

async function optionalText(url) {
    try {
        const r = await fetch(url, {cache: 'no-store'});
        return r.ok ? FKT.dec.decode(new Uint8Array(await r.arrayBuffer())) : null;
    } catch (e) {
        return null;
    }
}

async function getTrust(params) {
    let vkey = null, vkeySource = null, pol = null, polSource = null;
    if (params.get('vkey')) {
        /* A vkey holds no space: one is a '+' that the address did not
         * escape (%2B), as query strings read '+' as a space. */
        vkey = await FKT.parseVkey(params.get('vkey').replace(/ /g, '+'));
        vkeySource = 'given in the page address (?vkey=)';
    }
    let polText = null;
    if (params.get('policy')) {
        polText = FKT.dec.decode(await fetchText(new URL(params.get('policy'), location.href), 'the ?policy= file'));
        polSource = 'given in the page address (?policy=)';
    } else {
        polText = await optionalText(new URL('policy', st.base));
        if (polText !== null)
            polSource = 'the policy file published next to the checkpoint: trusted on first use';
    }
    /* A policy or key the log publishes about itself is trusted on first use. */
    let tofu = polText !== null && !params.get('policy');
    if (polText === null || !/^\s*log\s/m.test(polText)) {
        if (!vkey) {
            const served = await optionalText(new URL('vkey', st.base));
            if (served === null)
                FKT.fail('no log key: the log publishes no vkey file; open this page with ?vkey=<the log key your authority file names>');
            vkey = await FKT.parseVkey(served);
            vkeySource = 'published by the log itself (vkey): trusted on first use';
            tofu = true;
        }
    }
    pol = polText !== null ? await FKT.parsePolicy(polText, vkey) : FKT.policyOfLog(vkey);
    /* Trust on first use: the key and policy this browser saw here before. */
    const storeKey = 'fairkey-page ' + st.base.href;
    const anchor = JSON.stringify({logs: pol.logs.map(k => k.text), policy: pol.text});
    let before = null;
    try {
        before = localStorage.getItem(storeKey);
    } catch (e) { /* storage disabled: no memory */ }
    if (tofu && before !== null && before !== anchor)
        FKT.fail('the log key or policy this log publishes is NOT the one this browser saw here before ' +
                 `(${JSON.parse(before).logs.join(', ')}): the log changed its key or policy, or this is not the same log`);
    return {pol, vkeySource: vkeySource || 'from the policy', polSource, tofu, storeKey, anchor};
}

/* ---- verification --------------------------------------------------------- */

async function verifyHigherLevels(level8, partialLeaves) {
    const N = st.cp.size;
    let nodes = level8;
    const remainders = [];
    st.level8 = level8;
    st.partialLeaves = partialLeaves || [];
    for (let L = 1; nodes.length > 0; L++) {
        st.levels[L] = nodes;
        const {full, partial} = FKT.tilesAt(L, N);
        if (nodes.length !== full * FKT.TILE_WIDTH + partial)
            FKT.fail(`internal: level ${L} has ${nodes.length} nodes, expected ${full * 256 + partial}`);
        const tiles = [];
        for (let k = 0; k < full; k++)
            tiles.push([k, FKT.TILE_WIDTH]);
        if (partial)
            tiles.push([full, partial]);
        await Promise.all(tiles.map(async ([k, w]) => {
            const t = await FKT.fetchTile(st.base, L, k, w);
            const want = FKT.concat(...nodes.slice(k * 256, k * 256 + w));
            const got = t.fromFull ? t.bytes.subarray(0, w * 32) : t.bytes;
            if (!FKT.equal(got, want))
                FKT.fail(`the hash tile ${t.path} does not hold the roots of the tiles below it: ` +
                         'the log serves an altered or damaged tile');
        }));
        const next = [];
        for (let k = 0; k < full; k++)
            next.push(await FKT.subtreeRoot(nodes.slice(k * 256, k * 256 + 256)));
        remainders[L] = nodes.slice(full * 256);
        nodes = next;
    }
    const fr = new FKT.Frontier();
    for (let L = remainders.length - 1; L >= 1; L--)
        for (const h of remainders[L])
            await fr.append(8 * L, h);
    for (const h of partialLeaves || [])
        await fr.append(0, h);
    const root = await fr.root();
    if (!FKT.equal(root, st.cp.root))
        FKT.fail(`the entries and tiles give the root ${FKT.b64encode(root)}, not the checkpoint's ` +
                 `${FKT.b64encode(st.cp.root)}: the log serves entries it did not sign`);
}

/* The hash of the full subtree of 2^h leaves at index i, from what steps 3
 * and 4 verified; below height 8, the leaf hashes of one level-0 tile,
 * fetched again and checked against its verified root. */
async function verifiedNode(h, i) {
    if (h >= 8) {
        const L = Math.floor(h / 8), span = 2 ** (h % 8);
        return FKT.subtreeRoot(st.levels[L].slice(i * span, (i + 1) * span));
    }
    const first = i * 2 ** h, k = Math.floor(first / FKT.TILE_WIDTH), off = first % FKT.TILE_WIDTH;
    let leaves;
    if (k === st.level8.length) {
        leaves = st.partialLeaves;
    } else {
        const t = await FKT.fetchTile(st.base, 0, k, FKT.TILE_WIDTH);
        if (t.bytes.length !== FKT.TILE_WIDTH * FKT.HASH_LEN)
            FKT.fail(`the hash tile ${t.path} is not 256 hashes`);
        leaves = [];
        for (let j = 0; j < FKT.TILE_WIDTH; j++)
            leaves.push(t.bytes.subarray(j * 32, j * 32 + 32));
        if (!FKT.equal(await FKT.subtreeRoot(leaves), st.level8[k]))
            FKT.fail(`the hash tile ${t.path} changed while the page read it: the log serves different tiles to different requests`);
    }
    return FKT.subtreeRoot(leaves.slice(off, off + 2 ** h));
}

/* No rollback, no fork: the tree this browser verified here before (size,
 * root) must be a prefix of this one.  Throws a VerifyError if not. */
async function checkSeen() {
    const seen = st.seen, N = st.cp.size;
    if (!seen)
        return null;
    if (seen.size > N)
        FKT.fail(`ROLLBACK: the log shows tree size ${fmtInt(N)}, older than the tree of size ` +
                 `${fmtInt(seen.size)} this browser verified here before: a replayed old view or a ` +
                 'rollback, which can hide recoveries; keep a copy of both checkpoints as evidence');
    if (seen.size === 0)
        return 'empty';
    const root = seen.size === N ? st.cp.root : await FKT.prefixRoot(seen.size, verifiedNode);
    if (FKT.b64encode(root) !== seen.root)
        FKT.fail(`FORK: the first ${fmtInt(seen.size)} entries of this tree have the root ` +
                 `${FKT.b64encode(root)}, not the root ${seen.root} this browser verified here before ` +
                 'at that size: the log rewrote its history or shows a split view; keep both checkpoints as evidence');
    return seen.size === N ? 'same' : 'prefix';
}

function verifyTiles() {
    const N = st.cp.size;
    const {full, partial} = FKT.tilesAt(0, N);
    const jobs = [];
    for (let t = 0; t < full; t++)
        jobs.push({tile: t, width: FKT.TILE_WIDTH});
    if (partial)
        jobs.push({tile: full, width: partial});
    st.tilesTotal = jobs.length;
    const level8 = new Array(full);
    let partialLeaves = null, next = 0;
    return new Promise((resolve, reject) => {
        if (!jobs.length)
            return resolve({level8, partialLeaves});
        const workers = [];
        const stop = () => workers.forEach(w => w.terminate());
        const send = w => {
            if (next < jobs.length) {
                const j = jobs[next++];
                w.postMessage({id: j.tile, base: st.base.href, tile: j.tile, width: j.width});
            }
        };
        for (let i = 0; i < Math.min(WORKERS, jobs.length); i++) {
            const w = new Worker('verify.js');
            workers.push(w);
            w.onerror = e => { stop(); reject(new Error('a verification worker failed: ' + (e.message || e))); };
            w.onmessage = ev => {
                const m = ev.data;
                if (!m.ok) {
                    stop();
                    const err = m.verify ? new FKT.VerifyError(m.error) : new Error(m.error);
                    return reject(err);
                }
                if (m.root)
                    level8[m.tile] = m.root;
                else
                    partialLeaves = m.leaves;
                for (const r of m.records)
                    st.records.push(r);
                for (const [k, v] of Object.entries(m.counts))
                    st.counts[k] = (st.counts[k] || 0) + v;
                for (const [k, v] of Object.entries(m.malformed))
                    st.malformed[k] = (st.malformed[k] || 0) + v;
                st.tilesDone++;
                progress();
                if (st.tilesDone === jobs.length) {
                    stop();
                    return resolve({level8, partialLeaves});
                }
                send(w);
            };
            for (let k = 0; k < PER_WORKER; k++)
                send(w);
        }
    });
}

function progress() {
    const done = st.tilesDone, total = st.tilesTotal;
    $('progress').value = total ? done / total : 1;
    const entries = Math.min(done * 256, st.cp ? st.cp.size : 0);
    $('progress-text').textContent =
        `Checked ${fmtInt(done)} of ${fmtInt(total)} tiles (about ${fmtInt(entries)} of ` +
        `${fmtInt(st.cp ? st.cp.size : 0)} entries); ${fmtInt(st.records.length)} records so far. ` +
        'Entries are listed as they arrive and are verified once the last tile is in.';
    redraw(false);
}

async function load() {
    const params = new URLSearchParams(location.search);
    st.base = new URL(params.get('log') || '.', location.href);
    if (!st.base.pathname.endsWith('/'))
        st.base = new URL(st.base.href + '/');
    if (!crypto.subtle || !('Worker' in window)) {
        failVerification('this browser offers no WebCrypto or Web Workers (the page needs a secure ' +
                         'context: https:// or http://localhost)', true);
        return;
    }
    trustRow('Log', st.base.href);
    let maxAge = DEFAULT_MAX_AGE;
    if (params.get('max-age') !== null) {
        maxAge = /^[1-9][0-9]{0,9}$/.test(params.get('max-age')) ? Number(params.get('max-age')) : NaN;
        if (!(maxAge >= 1))
            return failVerification('?max-age= must be a number of seconds, at least 1', false);
    }
    const seenKey = 'fairkey-page-seen ' + st.base.href;
    try {
        const v = JSON.parse(localStorage.getItem(seenKey));
        if (v && Number.isSafeInteger(v.size) && v.size >= 0 && typeof v.root === 'string')
            st.seen = v;
    } catch (e) { /* storage disabled or unreadable: nothing remembered */ }
    let trust;
    try {
        setStatus('loading', 'Checking the trust anchor and the checkpoint…');
        trust = await getTrust(params);
        for (const k of trust.pol.logs)
            trustRow('Log key', `${k.text}`, el('br'), el('span', {class: trust.tofu ? 'warn' : 'muted'}, trust.vkeySource));
        if (trust.tofu)
            trustRow('', el('span', {class: 'warn'}, 'Compare this key with the log named in your ' +
                'authority file: a key or policy the log publishes about itself proves the tiles ' +
                'match what it signed, not that it is the log your agents use. Open this page ' +
                'with ?vkey= or ?policy= to pin them.'));
        if (trust.pol.text !== null)
            trustRow('Policy', trust.polSource, el('br'), el('code', {}, trust.pol.text.trim()));
        else
            trustRow('Policy', 'none: the log key alone (quorum none): freshness cannot be judged');
        const cpBytes = await fetchText(new URL('checkpoint', st.base), 'the checkpoint');
        st.cp = await FKT.verifyCheckpoint(cpBytes, trust.pol);
    } catch (e) {
        return failVerification(e.message, !(e instanceof FKT.VerifyError));
    }
    trustRow('Checkpoint', `signed by ${st.cp.log.name} (key ID ${FKT.hex(st.cp.log.keyId)}): ` +
        `tree size ${fmtInt(st.cp.size)}, root ${FKT.b64encode(st.cp.root)}`, el('br'),
        el('span', {class: 'good'}, 'signature verified'));
    if (trust.pol.witnesses.size) {
        const w = st.cp.witnessed.map(x => `${x.name} at ${new Date(x.time * 1000).toISOString()}`);
        trustRow('Witnesses', `${st.cp.witnessed.length} of ${trust.pol.witnesses.size} cosigned` +
            (w.length ? ': ' + w.join('; ') : ''), el('br'),
            el('span', {class: 'good'}, `quorum ${trust.pol.quorum} met`));
    }
    /* Freshness: the witnesses' clocks vouch for the time, never the log. */
    const now = Math.floor(Date.now() / 1000);
    const fresh = FKT.quorumSince(trust.pol, st.cp.witnessed, now - maxAge);
    const newest = st.cp.witnessed.length ? Math.max(...st.cp.witnessed.map(w => w.time)) : null;
    st.fresh = {judged: fresh !== null, fresh: fresh === true, maxAge, newestAge: newest === null ? null : now - newest};
    if (fresh === null)
        trustRow('Freshness', el('span', {class: 'warn'}, 'NOT verified: the policy names no witness quorum, ' +
            'so nothing dates this checkpoint: an old view of the log, replayed, looks the same. Open this ' +
            'page with ?policy= naming the witnesses to have it judged.'));
    else if (fresh)
        trustRow('Freshness', `the witness quorum cosigned within the last ${fmtInt(maxAge)} s (?max-age=; ` +
            `newest cosignature ${fmtInt(st.fresh.newestAge)} s old, by this browser's clock)`, el('br'),
            el('span', {class: 'good'}, 'fresh'));
    else
        trustRow('Freshness', el('span', {class: 'bad'}, `STALE: no witness quorum cosigned this checkpoint in the ` +
            `last ${fmtInt(maxAge)} s (newest cosignature ${fmtInt(st.fresh.newestAge)} s old, by this ` +
            "browser's clock)"));
    if (st.seen && st.seen.size > st.cp.size)
        try {
            await checkSeen();
        } catch (e) {
            return failVerification(e.message, false);
        }
    setStatus('loading', `Checkpoint verified (tree size ${fmtInt(st.cp.size)}); checking every entry against its root…`);
    progress();
    try {
        const {level8, partialLeaves} = await verifyTiles();
        if (st.state === 'fail')
            return;
        setStatus('loading', 'Checking the hash tiles and the root…');
        await verifyHigherLevels(level8, partialLeaves);
        const seen = await checkSeen();
        trustRow('History', seen === null ? 'this browser has not verified this log before: ' +
            'it remembers this tree size and root to refuse a rollback on a later visit' :
            `this browser verified tree size ${fmtInt(st.seen.size)} here before` +
            (seen === 'prefix' ? `; its root is the root of the first ${fmtInt(st.seen.size)} entries of this tree` :
             seen === 'same' ? ', with the same root' : ''), el('br'),
            el('span', {class: 'good'}, 'no rollback, no fork'));
    } catch (e) {
        return failVerification(e.message, !(e instanceof FKT.VerifyError));
    }
    st.records.sort((a, b) => a.index - b.index);
    const stale = st.fresh.judged && !st.fresh.fresh;
    st.state = stale ? 'stale' : 'ok';
    st.verifiedAt = performance.now();
    try {
        localStorage.setItem(trust.storeKey, trust.anchor);
        if (!st.seen || st.seen.size < st.cp.size)
            localStorage.setItem(seenKey, JSON.stringify({size: st.cp.size, root: FKT.b64encode(st.cp.root)}));
    } catch (e) { /* no storage */ }
    const secs = ((st.verifiedAt - st.startedAt) / 1000).toFixed(1);
    const detail = `Tree size ${fmtInt(st.cp.size)}, root ${FKT.b64encode(st.cp.root)}, signed by ` +
        `${st.cp.log.name}${st.cp.witnessed.length ? `, cosigned by ${st.cp.witnessed.length} witness(es)` : ''}. ` +
        `${fmtInt(st.counts.request || 0)} recovery request(s). Checked in ${secs} s.`;
    if (stale)
        setStatus('fail', `STALE: the log's view is not fresh under the policy (newest quorum cosignature ` +
            `${fmtInt(st.fresh.newestAge)} s old, more than ?max-age= ${fmtInt(st.fresh.maxAge)} s)`,
            `The ${fmtInt(st.cp.size)} entries match the signed checkpoint, but no witness quorum cosigned it in ` +
            `the last ${fmtInt(st.fresh.maxAge)} s: this may be a replayed old snapshot of the log, which hides ` +
            'every recovery recorded since. Do not rely on the absence of a request here; tell the log\'s operator. ' + detail);
    else
        setStatus('ok', `Verified: all ${fmtInt(st.cp.size)} entries match the signed checkpoint`, detail +
            (st.fresh.judged ? ` Fresh: the witness quorum cosigned within the last ${fmtInt(st.fresh.maxAge)} s.` :
             ' Freshness cannot be verified: the policy names no witnesses, so a replayed old view of the log looks the same.'));
    trustRow('Entries', `${fmtInt(st.cp.size)} entries in ${fmtInt(st.tilesTotal)} tiles: every leaf hash, ` +
        'hash tile and the Merkle root recomputed', el('br'), el('span', {class: 'good'}, 'root matches the checkpoint'));
    redraw(true);
    resolveDone();
}

/* ---- list, filters, charts --------------------------------------------- */

function kindOf(id) { return FK_ENTRY_KINDS.find(k => k.id === id); }

function fillSelect(sel, values, keep) {
    const cur = sel.value;
    const have = [...sel.options].map(o => o.value);
    const labels = [...sel.options].map(o => o.text);
    if (have.length === values.length + keep &&
        values.every((v, i) => have[i + keep] === v[0] && labels[i + keep] === v[1]))
        return;
    while (sel.options.length > keep)
        sel.remove(keep);
    for (const [v, label] of values)
        sel.add(new Option(label, v));
    sel.value = values.some(v => v[0] === cur) || !cur ? cur : '';
}

function updateFilterChoices() {
    const kinds = FK_ENTRY_KINDS.map(k => [k.id, `${k.plural} (${fmtInt(st.counts[k.id] || 0)})`]);
    const ks = $('f-kind');
    if (!ks.options.length)
        ks.add(new Option('every kind', '*'));
    fillSelect(ks, kinds, 1);
    if (!ks.dataset.init) {
        ks.value = 'request';
        ks.dataset.init = '1';
    }
    const req = new Map(), auth = new Map(), month = new Map();
    for (const r of st.records) {
        if (r.who)
            req.set(r.who, (req.get(r.who) || 0) + 1);
        if (r.authority)
            auth.set(r.authority, (auth.get(r.authority) || 0) + 1);
        if (r.time !== null)
            month.set(monthOf(r.time), (month.get(monthOf(r.time)) || 0) + 1);
    }
    const opts = m => [...m.keys()].sort().map(k => [k, `${short(k, 40)} (${fmtInt(m.get(k))})`]);
    fillSelect($('f-requester'), opts(req), 1);
    fillSelect($('f-authority'), opts(auth), 1);
    fillSelect($('f-month'), opts(month), 1);
}

function applyFilters() {
    const kind = $('f-kind').value || 'request';
    const who = $('f-requester').value, auth = $('f-authority').value, month = $('f-month').value;
    const q = $('f-search').value.trim().toLowerCase();
    st.filtered = st.records.filter(r =>
        (kind === '*' || r.kind === kind) && (!who || r.who === who) &&
        (!auth || r.authority === auth) && (!month || monthOf(r.time) === month) &&
        (!q || [String(r.index), fmtTime(r.time), r.who, r.authority, r.reason, r.warrant,
                r.target || '', r.detail].some(s => s.toLowerCase().includes(q))));
}

function renderTable() {
    const body = $('requests').tBodies[0];
    const pages = Math.max(1, Math.ceil(st.filtered.length / PAGE_ROWS));
    st.page = Math.min(st.page, pages - 1);
    const rows = st.filtered.slice(st.page * PAGE_ROWS, (st.page + 1) * PAGE_ROWS);
    const untrusted = st.state !== 'ok' ? 'untrusted' : '';
    body.replaceChildren(...rows.map(r => {
        const tr = el('tr', {class: untrusted, 'data-index': r.index},
            el('td', {class: 'mono'}, r.index),
            el('td', {class: 'mono'}, fmtTime(r.time)),
            el('td', {}, kindOf(r.kind).label),
            el('td', {}, r.who),
            el('td', {class: 'mono', title: r.authority}, short(r.authority)),
            el('td', {class: 'reason'}, r.reason || r.detail),
            el('td', {class: 'mono', title: r.warrant}, short(r.warrant)),
            el('td', {class: 'mono', title: r.target || ''}, short(r.target || '')));
        return tr;
    }));
    const total = st.records.filter(r => r.kind === ($('f-kind').value || 'request')).length;
    $('list-count').textContent = `${fmtInt(st.filtered.length)} shown of ${fmtInt(total)}` +
        (st.state === 'ok' ? ' (verified).' : st.state === 'stale' ? ' (verified, but from a STALE view of the log).' :
         st.state === 'fail' ? ' (NOT verified).' : ' (still verifying).');
    $('page-info').textContent = `page ${st.page + 1} of ${pages}`;
    $('prev').disabled = st.page === 0;
    $('next').disabled = st.page >= pages - 1;
}

const SVG = 'http://www.w3.org/2000/svg';
function svgEl(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs))
        e.setAttribute(k, v);
    if (text !== undefined)
        e.textContent = text;
    return e;
}

/* Horizontal bars: the 15 requesters with most requests. */
function chartRequesters(reqs) {
    const m = new Map();
    for (const r of reqs)
        m.set(r.who, (m.get(r.who) || 0) + 1);
    const top = [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 15);
    const W = 420, row = 20, labelW = 170, H = Math.max(1, top.length) * row + 10;
    const svg = svgEl('svg', {viewBox: `0 0 ${W} ${H}`, width: '100%', role: 'img',
                              'aria-label': 'requests per requester'});
    const max = Math.max(1, ...top.map(x => x[1]));
    top.forEach(([who, n], i) => {
        const y = 5 + i * row, w = Math.max(2, (W - labelW - 50) * n / max);
        svg.append(svgEl('text', {x: labelW - 6, y: y + 13, 'text-anchor': 'end'}, short(who, 26)));
        const bar = svgEl('rect', {class: 'bar', x: labelW, y: y + 2, width: w, height: row - 6});
        bar.append(svgEl('title', {}, `${who}: ${n}`));
        bar.addEventListener('click', () => { $('f-requester').value = who; onFilter(); });
        svg.append(bar, svgEl('text', {x: labelW + w + 4, y: y + 13}, fmtInt(n)));
    });
    if (!top.length)
        svg.append(svgEl('text', {x: 4, y: 14}, 'no requests'));
    if (m.size > top.length)
        svg.append(svgEl('title', {}, `${m.size - top.length} more requesters not shown`));
    $('chart-requester').replaceChildren(svg);
}

/* Vertical bars: every month from the first request to the last (the last
 * 36 months when there are more). */
function chartMonths(reqs) {
    const m = new Map();
    let first = null, last = null;
    for (const r of reqs) {
        const k = monthOf(r.time);
        m.set(k, (m.get(k) || 0) + 1);
        if (first === null || k < first)
            first = k;
        if (last === null || k > last)
            last = k;
    }
    const months = [];
    if (first) {
        let [y, mo] = first.split('-').map(Number);
        for (;;) {
            const k = `${y}-${String(mo).padStart(2, '0')}`;
            months.push(k);
            if (k >= last || months.length > 2000)
                break;
            if (++mo > 12) {
                mo = 1;
                y++;
            }
        }
    }
    const shown = months.slice(-36);
    const W = 420, H = 190, left = 34, bottom = 40;
    const bw = Math.min(36, (W - left - 6) / Math.max(1, shown.length));
    const svg = svgEl('svg', {viewBox: `0 0 ${W} ${H}`, width: '100%', role: 'img',
                              'aria-label': 'requests per month'});
    const max = Math.max(1, ...shown.map(k => m.get(k) || 0));
    svg.append(svgEl('text', {x: left - 4, y: 12, 'text-anchor': 'end'}, fmtInt(max)),
               svgEl('text', {x: left - 4, y: H - bottom, 'text-anchor': 'end'}, '0'),
               svgEl('line', {x1: left, y1: H - bottom, x2: W, y2: H - bottom, stroke: '#999'}));
    shown.forEach((k, i) => {
        const n = m.get(k) || 0, h = (H - bottom - 10) * n / max, x = left + i * bw;
        const bar = svgEl('rect', {class: 'bar', x: x + 1, y: H - bottom - h, width: Math.max(1, bw - 2), height: h});
        bar.append(svgEl('title', {}, `${k}: ${n}`));
        bar.addEventListener('click', () => { $('f-month').value = k; onFilter(); });
        svg.append(bar);
        if (shown.length <= 12 || i % Math.ceil(shown.length / 12) === 0)
            svg.append(svgEl('text', {x: x + bw / 2, y: H - bottom + 12, 'text-anchor': 'end',
                                      transform: `rotate(-45 ${x + bw / 2} ${H - bottom + 12})`}, k));
    });
    if (!shown.length)
        svg.append(svgEl('text', {x: left + 4, y: 20}, 'no requests'));
    $('chart-month').replaceChildren(svg);
}

function renderSummary() {
    const parts = FK_ENTRY_KINDS.map(k => `${fmtInt(st.counts[k.id] || 0)} ${k.plural}`);
    parts.push(`${fmtInt(st.counts.other || 0)} entries of no kind this page knows`);
    const bad = Object.entries(st.malformed).filter(([, n]) => n);
    let s = `Entries read: ${parts.join(', ')}.`;
    if (bad.length)
        s += ' Ignored, as fairkey audit ignores them (malformed, or a signature that does not verify): ' +
            bad.map(([k, n]) => `${fmtInt(n)} ${kindOf(k) ? kindOf(k).plural : k}`).join(', ') + '.';
    $('kind-summary').textContent = s;
}

let lastDraw = 0;
function redraw(now) {
    if (!now) {
        if (st.redrawPending)
            return;
        const wait = Math.max(0, REDRAW_MS - (performance.now() - lastDraw));
        st.redrawPending = true;
        setTimeout(() => { st.redrawPending = false; redraw(true); }, wait);
        return;
    }
    lastDraw = performance.now();
    updateFilterChoices();
    applyFilters();
    renderTable();
    const reqs = st.records.filter(r => r.kind === 'request');
    chartRequesters(reqs);
    chartMonths(reqs);
    renderSummary();
}

function onFilter() {
    st.page = 0;
    applyFilters();
    renderTable();
}

/* ---- owner check ------------------------------------------------------- */

/* ristretto255 group order L: a proof scalar must be below it (canonical). */
const GROUP_ORDER = 2n ** 252n + 27742317777372353535851937790883648493n;
function scalarCanonical(b) {
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--)
        v = (v << 8n) | BigInt(b[i]);
    return v < GROUP_ORDER;
}

/* Bech32 (BIP 173, no length limit): the age1fairkey1... recipient. */
function bech32(hrp, data) {
    const CH = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
    const G = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
    const words = [];
    let acc = 0, bits = 0;
    for (const b of data) {
        acc = (acc << 8) | b;
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            words.push((acc >> bits) & 31);
        }
    }
    if (bits)
        words.push((acc << (5 - bits)) & 31);
    const polymod = v => {
        let c = 1;
        for (const x of v) {
            const top = c >>> 25;
            c = ((c & 0x1ffffff) << 5) ^ x;
            for (let i = 0; i < 5; i++)
                if ((top >> i) & 1)
                    c ^= G[i];
        }
        return c;
    };
    const exp = [...hrp].map(c => c.charCodeAt(0) >> 5).concat([0], [...hrp].map(c => c.charCodeAt(0) & 31));
    const pm = polymod(exp.concat(words, [0, 0, 0, 0, 0, 0])) ^ 1;
    const check = [];
    for (let i = 0; i < 6; i++)
        check.push((pm >>> (5 * (5 - i))) & 31);
    return hrp + '1' + words.concat(check).map(w => CH[w]).join('');
}

const ARMOR_BEGIN = '-----BEGIN AGE ENCRYPTED FILE-----';

/* The stanzas of an age v1 header (docs/age.md), binary or armored. */
async function readHeader(file) {
    let bytes = new Uint8Array(await file.slice(0, HEADER_READ_MAX * 4).arrayBuffer());
    let text = new TextDecoder('latin1').decode(bytes);
    if (text.startsWith(ARMOR_BEGIN)) {
        const lines = text.split('\n').map(l => l.replace(/\r$/, ''));
        let b64 = '';
        for (const l of lines.slice(1)) {
            if (l.startsWith('-----END'))
                break;
            b64 += l.trim();
        }
        const decoded = FKT.b64decode(b64.slice(0, b64.length - (b64.length % 4)));
        if (!decoded)
            throw new Error('the armored file is not valid base64');
        text = new TextDecoder('latin1').decode(decoded);
    }
    text = text.slice(0, HEADER_READ_MAX);
    if (!text.startsWith('age-encryption.org/v1\n'))
        throw new Error('this is not an age file (no "age-encryption.org/v1" header line)');
    const lines = text.split('\n');
    const stanzas = [];
    let i = 1;
    for (;;) {
        if (i >= lines.length - 1)
            throw new Error('the age header does not end (no "---" line in its first 1 MiB)');
        const line = lines[i++];
        if (line.startsWith('--- '))
            break;
        if (!line.startsWith('-> '))
            throw new Error(`the age header has a line that is neither a stanza nor its end: "${short(line, 40)}"`);
        const args = line.slice(3).split(' ');
        let body = '';
        for (;;) {
            if (i >= lines.length - 1)
                throw new Error('the age header ends inside a stanza body');
            const b = lines[i++];
            body += b;
            if (b.length < 64)
                break;
        }
        stanzas.push({args, body});
    }
    return stanzas;
}

const ESCROW_TYPE = 'fairkey.dev/escrow/v2', ESCROW_TYPE_RETIRED = 'fairkey.dev/escrow';

/* fk_escrow_stanza_parse's rule, less the point checks (they need the
 * ristretto255 group, which WebCrypto lacks): 4 arguments, canonical
 * base64 of 32-byte points, a 96-byte body with canonical scalars. */
function escrowStanza(s) {
    if (s.args[0] !== ESCROW_TYPE && s.args[0] !== ESCROW_TYPE_RETIRED)
        return null;
    if (s.args[0] === ESCROW_TYPE_RETIRED)
        return {bad: 'a retired v1 escrow stanza: no request can name it, and checking recipients refuse the file'};
    const pts = s.args.slice(1).map(a => FKT.b64decode(a, false));
    const body = FKT.b64decode(s.body, false);
    if (s.args.length !== 4 || pts.some(p => !p || p.length !== 32))
        return {bad: 'its arguments are not three 32-byte points'};
    if (!body || body.length !== 96 || !scalarCanonical(body.subarray(32, 64)) || !scalarCanonical(body.subarray(64)))
        return {bad: 'its body is not a 96-byte wrapped key and proof'};
    return {pk: pts[0], e: s.args[2]};
}

async function ownerCheck(file) {
    const out = $('owner-result');
    out.replaceChildren(el('p', {}, `Reading the header of ${file.name}…`));
    let stanzas;
    try {
        stanzas = await readHeader(file);
    } catch (e) {
        out.replaceChildren(el('p', {class: 'bad'}, `${file.name}: ${e.message}`));
        return;
    }
    const escrow = stanzas.map((s, i) => ({i, ...(escrowStanza(s) || {skip: true})})).filter(s => !s.skip);
    if (!escrow.length) {
        out.replaceChildren(el('p', {}, `${file.name}: no escrow stanza; nothing to check (no authority can recover this file).`));
        return;
    }
    if (st.state === 'loading')
        out.replaceChildren(el('p', {}, `${file.name}: ${escrow.length} escrow stanza(s); waiting for the log's verification to finish…`));
    await st.done;
    const items = [el('p', {}, `${file.name}: ${escrow.length} escrow stanza(s), checked against the log ` +
        `up to tree size ${fmtInt(st.cp ? st.cp.size : 0)}. The file stayed in this browser.`)];
    if (st.state === 'stale')
        items.push(el('p', {class: 'bad'}, `The log's view is STALE: no witness quorum cosigned its checkpoint in the ` +
            `last ${fmtInt(st.fresh.maxAge)} s (newest cosignature ${fmtInt(st.fresh.newestAge)} s old). A recovery ` +
            'recorded after this checkpoint would not show here: this result cannot be relied on.'));
    else if (st.state !== 'ok')
        items.push(el('p', {class: 'bad'}, 'The log did NOT verify, so this result cannot be vouched for: ' + st.failure));
    else if (!st.fresh.judged)
        items.push(el('p', {class: 'warn'}, 'Freshness cannot be verified (the policy names no witnesses): this is ' +
            'the log as it was at this checkpoint; an old view, replayed, would look the same.'));
    for (const s of escrow) {
        if (s.bad) {
            items.push(el('div', {class: 'stanza malformed'},
                el('strong', {}, `stanza ${s.i + 1}: MALFORMED escrow stanza`), `: ${s.bad}. It cannot be checked; ` +
                'the file\'s header is damaged or forged.'));
            continue;
        }
        const rcp = bech32('age1fairkey', s.pk);
        /* fairkey audit's rule: a validly signed request whose target E is
         * this stanza's E (signatures were checked by the workers). */
        const hits = st.records.filter(r => r.kind === 'request' && r.target === s.e);
        const box = el('div', {class: 'stanza ' + (hits.length ? 'hit' : st.state === 'ok' ? 'clear' : 'unknown'), 'data-e': s.e},
            el('div', {}, 'escrow stanza for ', el('code', {}, rcp)),
            el('div', {class: 'muted'}, `E = ${s.e}`));
        if (hits.length) {
            box.append(el('strong', {class: 'bad'}, `RECOVERY REQUESTED ${hits.length} time(s):`));
            box.append(el('ul', {}, ...hits.map(r => el('li', {},
                `at log index ${r.index} by ${r.who} at ${fmtTime(r.time)}: ${r.reason} ` +
                `(warrant SHA-256 ${r.warrant}, authority ${short(r.authority)})`))));
        } else if (st.state === 'stale') {
            box.append(el('strong', {class: 'bad'},
                `none found in the STALE view (tree size ${st.cp.size}): not known whether a recovery was recorded since`));
        } else {
            box.append(el('strong', {class: st.state === 'ok' ? 'good' : 'bad'},
                `no recovery recorded up to tree size ${st.cp ? st.cp.size : 0}`));
        }
        items.push(box);
    }
    out.replaceChildren(...items);
}

function setupOwner() {
    const drop = $('drop'), input = $('file-input');
    input.addEventListener('change', () => input.files[0] && ownerCheck(input.files[0]));
    for (const ev of ['dragenter', 'dragover'])
        drop.addEventListener(ev, e => { e.preventDefault(); drop.classList.add('over'); });
    for (const ev of ['dragleave', 'drop'])
        drop.addEventListener(ev, () => drop.classList.remove('over'));
    drop.addEventListener('drop', e => {
        e.preventDefault();
        if (e.dataTransfer.files[0])
            ownerCheck(e.dataTransfer.files[0]);
    });
    /* A file dropped anywhere else must not make the browser open it. */
    window.addEventListener('dragover', e => e.preventDefault());
    window.addEventListener('drop', e => e.preventDefault());
}

function setupFilters() {
    let t = null;
    $('filters').addEventListener('submit', e => e.preventDefault());
    $('f-search').addEventListener('input', () => { clearTimeout(t); t = setTimeout(onFilter, 150); });
    for (const id of ['f-kind', 'f-requester', 'f-authority', 'f-month'])
        $(id).addEventListener('change', onFilter);
    $('f-clear').addEventListener('click', () => {
        $('f-search').value = '';
        for (const id of ['f-requester', 'f-authority', 'f-month'])
            $(id).value = '';
        $('f-kind').value = 'request';
        onFilter();
    });
    $('prev').addEventListener('click', () => { st.page--; renderTable(); });
    $('next').addEventListener('click', () => { st.page++; renderTable(); });
}

setupOwner();
setupFilters();
redraw(true);
load().catch(e => failVerification('unexpected error: ' + (e && e.message || e), true));
