/**
 * Reads the engine's live events from the Redis stream `<prefix>:events` with blocking XREAD on
 * a connection of its own, and fans them out to subscribers. A stream rather than the pub/sub
 * channel: a reader that reconnects continues after the last id it saw, so nothing is lost
 * while Redis blips.
 */

import { eventsKey, type RedisConnection } from '@rekey/worker/engine';
import type { EngineEvent, EngineEventSource } from './dashboard-backend.ts';

/** How long one XREAD blocks; also the longest a close waits for the loop to notice. */
const BLOCK_MS = 2_000;

/**
 * An event source over a dedicated Redis connection (it blocks: never share it). On a Redis
 * Cluster the stream key carries the prefix's hash tag, so XREAD goes to its slot's owner.
 *
 * @example
 * const events = redisEventSource(new Redis(url), '{rekey}');
 * const stop = events.subscribe((e) => console.log(e.runId));
 */
export function redisEventSource(redis: RedisConnection, prefix: string): EngineEventSource {
  const key = eventsKey(prefix);
  const listeners = new Set<(event: EngineEvent) => void>();
  let closed = false;
  let lastId = '$';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });

  const loop = async (): Promise<void> => {
    // Start after the newest entry: reading on from `$` each time would drop events that land
    // between two reads.
    while (!closed && lastId === '$') {
      try {
        const newest = (await redis.xrevrange(key, '+', '-', 'COUNT', 1)) as [string, string[]][];
        lastId = newest[0]?.[0] ?? '0-0';
        markReady();
      } catch {
        if (closed) return;
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
    while (!closed) {
      try {
        const reply = (await redis.xread('BLOCK', BLOCK_MS, 'STREAMS', key, lastId)) as
          | [string, [string, string[]][]][]
          | null;
        for (const [, entries] of reply ?? []) {
          for (const [id, fields] of entries) {
            lastId = id;
            const event = parseEvent(id, fields);
            if (event !== undefined) for (const l of listeners) l(event);
          }
        }
      } catch {
        if (closed) return;
        // Redis is away: the hub also polls the control store, so wait and read on.
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  };
  const running = loop().finally(markReady);

  return {
    ready,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      closed = true;
      listeners.clear();
      redis.disconnect();
      await running;
    },
  };
}

function parseEvent(streamId: string, fields: string[]): EngineEvent | undefined {
  const at = fields.indexOf('event');
  if (at < 0 || at + 1 >= fields.length) return undefined;
  try {
    const body = JSON.parse(fields[at + 1] as string) as { runId?: unknown; type?: unknown };
    if (typeof body.runId !== 'string') return undefined;
    return { streamId, runId: body.runId, type: String(body.type ?? 'progress') };
  } catch {
    return undefined;
  }
}
