// The page's log code (web/tlog.js) under node's WebCrypto, against outside
// vectors (tests/vectors/merkle, tests/vectors/README.md): the Tessera test
// log's 16 signed checkpoints, bundles and tiles, and Sunlight's
// cosignature/v1 witness lines.  Usage: node tlog_vectors.mjs SOURCE_DIR
import { readFileSync } from 'node:fs';
import vm from 'node:vm';

const src = process.argv[2];
vm.runInThisContext(readFileSync(`${src}/web/tlog.js`, 'utf8'), { filename: 'tlog.js' });
vm.runInThisContext(readFileSync(`${src}/web/entries.js`, 'utf8'), { filename: 'entries.js' });
const FKT = vm.runInThisContext('FKT');
const KINDS = vm.runInThisContext('FK_ENTRY_KINDS');
const V = `${src}/tests/vectors/merkle`;
let failed = 0, checks = 0;
const check = (what, cond, why = '') => {
  checks++;
  if (cond) console.log(`ok - ${what}`);
  else { failed++; console.log(`FAIL - ${what}${why ? ': ' + why : ''}`); }
};
const rejects = async (what, f, pattern) => {
  try { await f(); check(what, false, 'accepted'); }
  catch (e) { check(what, e instanceof FKT.VerifyError && pattern.test(e.message), e.message); }
};
const file = p => new Uint8Array(readFileSync(p));

// Tile paths (C2SP tlog-tiles examples and edges).
check('tile path of index 1234067', FKT.tilePath(0, 1234067, 256) === 'tile/0/x001/x234/067');
check('partial bundle path', FKT.tilePath('entries', 5, 3) === 'tile/entries/005.p/3');
check('tile path of index 1000', FKT.tilePath(1, 1000, 256) === 'tile/1/x001/000');
check('tiles of a 1,000,000-entry tree', JSON.stringify(FKT.tilesAt(0, 1e6)) === '{"full":3906,"partial":64}' &&
  JSON.stringify(FKT.tilesAt(1, 1e6)) === '{"full":15,"partial":66}');

// Strict base64.
check('base64: canonical padded decodes', FKT.b64decode('AQI=')?.join() === '1,2');
check('base64: non-canonical trailing bits refused', FKT.b64decode('AQJ=') === null);
check('base64: unpadded where padding is due refused', FKT.b64decode('AQI') === null);
check('base64: unpadded form (age)', FKT.b64decode('AQI', false)?.join() === '1,2');

// Tessera: every checkpoint verifies and its root is the root of the tiles.
const vkey = await FKT.parseVkey('example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx');
const words = 'one two three four five six seven eit nain ten ileven twelf threeten fourten fivten'.split(' ');
const pol = FKT.policyOfLog(vkey);
for (let n = 0; n <= 15; n++) {
  const cp = await FKT.verifyCheckpoint(file(`${V}/tessera-posix-log/checkpoint.${n}`), pol);
  let leaves = [];
  if (n) {
    const entries = FKT.parseBundle(file(`${V}/tessera-posix-log/tile/entries/000.p/${n}`), n, true);
    const tile = file(`${V}/tessera-posix-log/tile/0/000.p/${n}`);
    leaves = await Promise.all(entries.map(FKT.leafHash));
    check(`tessera ${n}: bundle entries`, entries.map(e => FKT.dec.decode(e)).join(' ') === words.slice(0, n).join(' '));
    check(`tessera ${n}: leaf hashes = tile`, FKT.equal(FKT.concat(...leaves), tile));
  }
  const fr = new FKT.Frontier();
  for (const h of leaves) await fr.append(0, h);
  const root = await fr.root();
  check(`tessera ${n}: signature verifies, root from the tiles = checkpoint root`,
    cp.size === n && cp.origin === 'example.com/log/testdata' && FKT.equal(root, cp.root));
  if (n === 8)
    check('tessera 8: full-subtree root = frontier root', FKT.equal(await FKT.subtreeRoot(leaves), root));
}
const cp15 = readFileSync(`${V}/tessera-posix-log/checkpoint`, 'utf8');
const flip = (s, i) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
const sigAt = cp15.indexOf('\u2014 ') + 40;
await rejects('a changed signature is refused', () =>
  FKT.verifyCheckpoint(FKT.enc.encode(flip(cp15, sigAt)), pol), /does NOT verify/);
await rejects('a changed root is refused', () =>
  FKT.verifyCheckpoint(FKT.enc.encode(cp15.replace('rKbD', 'rKbE')), pol), /does NOT verify/);
const other = await FKT.parseVkey('fk.test/other+' + FKT.hex(await FKT.keyId('fk.test/other', 1, vkey.key)) +
  '+' + FKT.b64encode(FKT.concat(new Uint8Array([1]), vkey.key)));
await rejects('a checkpoint no policy log signed is refused', () =>
  FKT.verifyCheckpoint(FKT.enc.encode(cp15), FKT.policyOfLog(other)), /no valid signature of the log key/);
await rejects('a vkey whose key ID does not match is refused', () =>
  FKT.parseVkey('example.com/log/testdata+33d7b497+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx'), /key ID does not match/);

// Sunlight: cosignature/v1 lines verify with the witnesses' keys, with
// timestamp 1767139200; the static-ct-api (0x05) line is of no known key.
const S = `${V}/sunlight-cosignature-v1`;
const wit = {
  'witness/000de184301123b9278c086a7d9f68c9577e83872224c197058fd90784ea9706/checkpoint':
    'witness.example.org+b8a2cf20+BFLN3yikSfFkVAJtrnh/CiY3Zozkoy7clp+P7XB28qUN',
  'witness2/88ad7a28caeb0b2aa890fdf0304c2fcaf59fca2ee140134ff8c1300bac493482/checkpoint':
    'witness2.example.org+2e55b896+BIZ7fpceQWd60IfqQeS9IAnmNOCZjMDne8lZuguz/bi9',
  'witness/mirror/000de184301123b9278c086a7d9f68c9577e83872224c197058fd90784ea9706/checkpoint':
    'mirror.example.org+3fb148ef+BAAjjch9GyYz0sJsJx7ALhbdAtz2ov0unbzSl1vMp94O',
};
for (const [path, vk] of Object.entries(wit)) {
  const k = await FKT.parseVkey(vk);
  const note = FKT.parseNote(file(`${S}/${path}`));
  const line = note.sigs.find(s => s.name === k.name && FKT.equal(s.keyId, k.keyId));
  const t = line && await FKT.verifySig(k, line, note.textBytes);
  check(`sunlight: ${k.name}'s cosignature verifies`, k.type === 4 && t === 1767139200, String(t));
  const bad = { ...line, sig: line.sig.slice() };
  bad.sig[20] ^= 1;
  check(`sunlight: ${k.name}'s cosignature with a flipped bit fails`, (await FKT.verifySig(k, bad, note.textBytes)) === false);
}

// Policies: the page reads the tlog-policy files fairkey writes.
const w1 = 'witness.example.org+b8a2cf20+BFLN3yikSfFkVAJtrnh/CiY3Zozkoy7clp+P7XB28qUN';
const p = await FKT.parsePolicy(`log ${vkey.text} https://example.com/\nwitness w1 ${w1}\ngroup g any w1\nquorum g\n`);
check('policy: log, witness, group, quorum', p.logs.length === 1 && p.witnesses.size === 1 && p.quorum === 'g');
await rejects('policy: a quorum the checkpoint lacks is refused', () =>
  FKT.verifyCheckpoint(FKT.enc.encode(cp15), p), /lacks the witness cosignatures/);
await rejects('policy: no quorum line', () => FKT.parsePolicy(`log ${vkey.text}\n`), /no quorum/);
await rejects('policy: unknown member', () => FKT.parsePolicy(`log ${vkey.text}\ngroup g any w9\nquorum g\n`), /line 2/);
await rejects('policy: unknown keyword', () => FKT.parsePolicy(`log ${vkey.text}\nquorom none\n`), /line 2/);

// Freshness (?max-age=): the quorum counted only over cosignatures at or
// after a time; a quorum of none dates nothing (null).
const p2 = await FKT.parsePolicy(`log ${vkey.text}\nwitness a ${w1}\nwitness b ${wit[Object.keys(wit)[1]]}\n` +
  'group g 2 a b\nquorum g\n');
const seen = [{ name: 'a', time: 1000 }, { name: 'b', time: 2000 }];
check('freshness: both cosignatures recent enough meet 2-of-2', FKT.quorumSince(p2, seen, 1000) === true);
check('freshness: one cosignature too old misses 2-of-2', FKT.quorumSince(p2, seen, 1001) === false);
check('freshness: a missing witness misses the quorum', FKT.quorumSince(p2, seen.slice(1), 0) === false);
check('freshness: any-of-1 met by the newer one', FKT.quorumSince(p, [{ name: 'w1', time: 5 }], 5) === true &&
  FKT.quorumSince(p, [{ name: 'w1', time: 5 }], 6) === false);
check('freshness: quorum none cannot be judged', FKT.quorumSince(pol, [], 0) === null);

// Rollback and consistency: the root of the first m leaves of a larger tree,
// from its full subtrees, equals the tree of m leaves folded leaf by leaf;
// against Tessera (its checkpoints 1..15 from the leaves of checkpoint 15)
// and a 1,300-leaf tree (subtrees above a tile, as the page's tiles give).
const tessLeaves = await Promise.all(FKT.parseBundle(file(`${V}/tessera-posix-log/tile/entries/000.p/15`), 15, true)
  .map(FKT.leafHash));
const nodeOf = leaves => (h, i) => FKT.subtreeRoot(leaves.slice(i * 2 ** h, (i + 1) * 2 ** h));
let prefixOk = true;
for (let n = 1; n <= 15; n++) {
  const cp = await FKT.verifyCheckpoint(file(`${V}/tessera-posix-log/checkpoint.${n}`), pol);
  prefixOk = prefixOk && FKT.equal(await FKT.prefixRoot(n, nodeOf(tessLeaves)), cp.root);
}
check('consistency: the root of the first n of 15 leaves = Tessera\'s checkpoint n, n = 1..15', prefixOk);
const big = await Promise.all(Array.from({ length: 1300 }, (_, i) => FKT.leafHash(FKT.enc.encode(`entry ${i}`))));
prefixOk = true;
for (const m of [1, 255, 256, 257, 512, 777, 1024, 1299, 1300]) {
  const fr = new FKT.Frontier();
  for (const h of big.slice(0, m)) await fr.append(0, h);
  prefixOk = prefixOk && FKT.equal(await FKT.prefixRoot(m, nodeOf(big)), await fr.root());
}
check('consistency: prefix roots of a 1,300-leaf tree at tile edges = leaf-by-leaf roots', prefixOk);

// The entry kinds table: one row per first line, every row complete.
check('entry kinds: distinct first lines', new Set(KINDS.map(k => k.firstLine)).size === KINDS.length);
check('entry kinds: requests and source deposits are rows', ['request', 'deposit'].every(id => KINDS.some(k => k.id === id)));
check('entry kinds: every row has id, label, plural and parse',
  KINDS.every(k => k.id && k.label && k.plural && typeof k.parse === 'function'));

console.log(`${checks - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
