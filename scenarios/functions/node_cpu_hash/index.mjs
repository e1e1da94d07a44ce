// CPU-bound Node.js demo function: a chain of SHA-256 digests over a 64 KiB buffer, the same work
// as functions/cpu_hash/app.py, so the two runtimes can be compared under Lambda's CPU model.
//
// Event: {"mb": 20} hashes 20 MiB (320 rounds of 64 KiB). Each round hashes the previous digest
// plus the buffer, so the work is strictly sequential on one thread: above 1,769 MB it gets no
// faster, which is what a memory sweep should reveal.
import { createHash } from "node:crypto";

const BLOCK = Buffer.alloc(64 * 1024, 0).map((_, i) => i % 256); // built once per environment (INIT)
const ROUNDS_PER_MB = (1024 * 1024) / BLOCK.length;
const MAX_MB = 1024; // refuse absurd events instead of running into the timeout

export const handler = async (event) => {
  const mb = (event ?? {}).mb ?? 20;
  if (!Number.isInteger(mb) || mb <= 0 || mb > MAX_MB) {
    throw new RangeError(`'mb' must be a whole number from 1 to ${MAX_MB}, got ${JSON.stringify(mb)}`);
  }
  let digest = Buffer.alloc(0);
  for (let i = 0; i < mb * ROUNDS_PER_MB; i++) {
    digest = createHash("sha256").update(digest).update(BLOCK).digest();
  }
  return { mb, digest: digest.toString("hex") };
};
