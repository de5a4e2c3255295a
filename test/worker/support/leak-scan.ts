/**
 * Looks for secret bytes in Redis and in log text: raw, lowercase and uppercase hex, base64 and
 * base64url (at all three byte alignments, so a secret inside a longer encoded blob is found).
 * Each secret is matched by a 12-byte (raw) or 16-character (encoded) window from its start.
 */
import { connectRedis } from '@rekey/worker';

const RAW_WINDOW = 12;
const TEXT_WINDOW = 16;

/** Something to search, with a name for the report. */
export interface Haystack {
  readonly name: string;
  readonly data: Buffer;
}

function encodedWindows(secret: Uint8Array): string[] {
  const bytes = Buffer.from(secret);
  const out = [bytes.toString('hex'), bytes.toString('hex').toUpperCase()];
  for (let shift = 0; shift < 3; shift++) {
    const padded = Buffer.concat([Buffer.alloc(shift), bytes]);
    // Characters that depend on the padding bytes are skipped.
    const skip = shift === 0 ? 0 : 4;
    out.push(padded.toString('base64').slice(skip), padded.toString('base64url').slice(skip));
  }
  return out.map((s) => s.slice(0, TEXT_WINDOW)).filter((s) => s.length === TEXT_WINDOW);
}

/** Names of the haystacks in which any of `secrets` appears, with the form found. */
export function findLeaks(
  haystacks: readonly Haystack[],
  secrets: readonly Uint8Array[],
): string[] {
  const raw = new Set<string>();
  const text = new Set<string>();
  for (const s of secrets) {
    if (s.length >= RAW_WINDOW) raw.add(Buffer.from(s.subarray(0, RAW_WINDOW)).toString('latin1'));
    for (const w of encodedWindows(s)) text.add(w);
  }
  const hits: string[] = [];
  for (const h of haystacks) {
    const latin = h.data.toString('latin1');
    for (let i = 0; i + RAW_WINDOW <= latin.length; i++) {
      if (raw.has(latin.slice(i, i + RAW_WINDOW))) {
        hits.push(`${h.name}: raw bytes at ${i}`);
        break;
      }
    }
    for (let i = 0; i + TEXT_WINDOW <= latin.length; i++) {
      if (text.has(latin.slice(i, i + TEXT_WINDOW))) {
        hits.push(`${h.name}: encoded at ${i}`);
        break;
      }
    }
  }
  return hits;
}

/** Every key under `prefix` with all of its values, as haystacks. */
export async function dumpRedis(url: string, prefix: string): Promise<Haystack[]> {
  const redis = connectRedis(url);
  const out: Haystack[] = [];
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const type = await redis.type(key);
        const parts: Buffer[] = [Buffer.from(key)];
        if (type === 'string') parts.push((await redis.getBuffer(key)) ?? Buffer.alloc(0));
        if (type === 'hash') {
          for (const [f, v] of Object.entries(await redis.hgetallBuffer(key)))
            parts.push(Buffer.from(f), v);
        }
        if (type === 'list') parts.push(...(await redis.lrangeBuffer(key, 0, -1)));
        if (type === 'set') parts.push(...(await redis.smembersBuffer(key)));
        if (type === 'zset') parts.push(...(await redis.zrangeBuffer(key, 0, -1)));
        if (type === 'stream') {
          for (const [id, fields] of await redis.xrangeBuffer(key, '-', '+'))
            parts.push(id, ...fields);
        }
        out.push({ name: `redis ${type} ${key}`, data: Buffer.concat(parts) });
      }
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
  return out;
}
