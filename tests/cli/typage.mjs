// typage (the npm package age-encryption) as an independent age
// implementation for tests/cli/interop_typage.sh:
//   node typage.mjs decrypt IDENTITY_FILE IN OUT
//   node typage.mjs encrypt RECIPIENT IN OUT
import { readFileSync, writeFileSync } from "node:fs";
import { webcrypto } from "node:crypto";
if (!globalThis.crypto) globalThis.crypto = webcrypto; // Node 18

const { Decrypter, Encrypter } = await import("age-encryption");
const [mode, key, input, output] = process.argv.slice(2);
const data = new Uint8Array(readFileSync(input));
if (mode === "decrypt") {
  const identity = readFileSync(key, "utf8")
    .split("\n")
    .find((l) => l.startsWith("AGE-SECRET-KEY-1"));
  const d = new Decrypter();
  d.addIdentity(identity);
  writeFileSync(output, await d.decrypt(data, "uint8array"));
} else if (mode === "encrypt") {
  const e = new Encrypter();
  e.addRecipient(key);
  writeFileSync(output, await e.encrypt(data));
} else {
  console.error("usage: typage.mjs decrypt|encrypt KEY IN OUT");
  process.exit(2);
}
