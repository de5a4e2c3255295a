/**
 * `GET /api/events`: one server-sent-event stream per page. On connect it sends a `snapshot`
 * (or, when `Last-Event-ID` names a message the hub still holds, only the messages missed),
 * then `run` and `overview` messages as they happen, each with an `id`, and a comment line as a
 * heartbeat when idle. `?run=<id>` selects a run page's stream; without it, the overview's.
 */
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';

import type { LiveHub, LiveMessage, Topic } from './live-hub.ts';

/** Stream settings. */
export interface EventStreamOptions {
  readonly heartbeatMs: number;
  /** Checked at each heartbeat: a signed-out session ends its streams. */
  readonly stillValid: () => Promise<boolean>;
}

const RUN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Answers one event-stream request. */
export function eventStream(
  c: Context,
  hub: LiveHub,
  options: EventStreamOptions,
): Response | Promise<Response> {
  const runId = c.req.query('run');
  if (runId !== undefined && !RUN_ID.test(runId)) return c.json({ error: 'run not found' }, 404);
  const topic: Topic = runId === undefined ? 'overview' : `run:${runId}`;
  const lastEventId = c.req.header('last-event-id');

  return streamSSE(c, async (stream) => {
    const queue: LiveMessage[] = [];
    let wake: (() => void) | undefined;
    let aborted = false;
    const unsubscribe = hub.subscribe(topic, (m) => {
      queue.push(m);
      wake?.();
    });
    stream.onAbort(() => {
      aborted = true;
      unsubscribe();
      wake?.();
    });
    const send = (m: LiveMessage) =>
      stream.writeSSE({ id: m.id, event: m.event, data: JSON.stringify(m.data) });

    try {
      await stream.write('retry: 2000\n\n');
      const missed = lastEventId === undefined ? undefined : hub.missedSince(topic, lastEventId);
      if (missed !== undefined) {
        for (const m of missed) await send(m);
        // Messages queued since subscribing may repeat the replay: drop those already sent.
        const sent = new Set(missed.map((m) => m.id));
        queue.splice(0, queue.length, ...queue.filter((m) => !sent.has(m.id)));
      } else {
        const id = hub.currentId();
        const snapshot = await hub.snapshot(topic);
        if (snapshot === undefined) {
          await stream.writeSSE({
            event: 'gone',
            data: JSON.stringify({ error: 'run not found' }),
          });
          return;
        }
        await send({ id, event: 'snapshot', data: snapshot });
      }
      while (!aborted) {
        while (queue.length > 0 && !aborted) await send(queue.shift() as LiveMessage);
        const woke = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), options.heartbeatMs);
          wake = () => {
            clearTimeout(timer);
            resolve(true);
          };
        });
        wake = undefined;
        if (!woke && !aborted) {
          if (!(await options.stillValid())) return;
          await stream.write(': heartbeat\n\n');
        }
      }
    } finally {
      unsubscribe();
    }
  });
}
