/*
 * fairkey transparency page: a verification worker.
 *
 * Each job is one level-0 tile of the log: the worker fetches its entry
 * bundle and its hash tile, hashes every entry (RFC 6962 leaf hash,
 * WebCrypto SHA-256), checks that the hash tile holds exactly those leaf
 * hashes, and for a full tile returns the root of its 256 leaves (checked
 * by the page against the level-1 tile and, through it, the checkpoint).
 * It parses each entry by its kind (entries.js) and checks the signature of
 * each recovery request.  Nothing it returns is trusted until the page has
 * folded the tile's root into the checkpoint's root.
 */
'use strict';
importScripts('tlog.js', 'entries.js');

const dec = new TextDecoder('utf-8', {fatal: false});

async function verifyTile(base, tile, width) {
    const [b, h] = await Promise.all([FKT.fetchTile(base, 'entries', tile, width),
                                      FKT.fetchTile(base, 0, tile, width)]);
    const entries = FKT.parseBundle(b.bytes, width, !b.fromFull);
    if (!entries)
        FKT.fail(`${b.path} is not a bundle of ${width} entries: the log serves a damaged or altered entry bundle`);
    if (h.bytes.length !== width * FKT.HASH_LEN && !(h.fromFull && h.bytes.length === FKT.TILE_WIDTH * FKT.HASH_LEN))
        FKT.fail(`${h.path} is ${h.bytes.length} bytes, not ${width} hashes: the log serves a damaged hash tile`);
    const leaves = await Promise.all(entries.map(FKT.leafHash));
    for (let i = 0; i < width; i++) {
        if (!FKT.equal(leaves[i], h.bytes.subarray(i * 32, i * 32 + 32)))
            FKT.fail(`entry ${tile * 256 + i}: its leaf hash is not the one ${h.path} holds: ` +
                     `the entry bundle ${b.path} or the hash tile was altered`);
    }
    const records = [], counts = {}, malformed = {};
    const checks = [];
    for (let i = 0; i < width; i++) {
        const e = entries[i];
        let nl = e.indexOf(10);
        if (nl < 0)
            nl = Math.min(e.length, 100);
        const kind = fkEntryKind(dec.decode(e.subarray(0, nl)));
        const id = kind ? kind.id : 'other';
        counts[id] = (counts[id] || 0) + 1;
        if (!kind)
            continue;
        let f = null;
        try {
            f = kind.parse(e, FKT.dec.decode(e));
        } catch (err) {
            f = null;   /* not UTF-8 */
        }
        if (!f) {
            malformed[id] = (malformed[id] || 0) + 1;
            continue;
        }
        const rec = {kind: id, index: tile * 256 + i, ...f};
        if (kind.check)
            checks.push(kind.check(f, e).then(ok => {
                if (ok)
                    records.push(rec);
                else
                    malformed[id] = (malformed[id] || 0) + 1;
            }));
        else
            records.push(rec);
    }
    await Promise.all(checks);
    records.sort((x, y) => x.index - y.index);
    const root = width === FKT.TILE_WIDTH ? await FKT.subtreeRoot(leaves) : null;
    return {root, leaves: root ? null : leaves, records, counts, malformed};
}

self.onmessage = async ev => {
    const {id, base, tile, width} = ev.data;
    try {
        self.postMessage({id, tile, ok: true, ...(await verifyTile(base, tile, width))});
    } catch (e) {
        self.postMessage({id, tile, ok: false, verify: e instanceof FKT.VerifyError,
                          error: e.message || String(e)});
    }
};
