/**
 * Live progress for dashboards and `rekey rotate --wait`: a Redis stream `<prefix>:events`
 * (capped) and a channel of the same name. Events carry ids, refs and counts only.
 */
import type { RedisConnection } from './redis-connection.ts';

/** One live event. */
export interface ProgressEvent {
  readonly type: 'progress' | 'phase';
  readonly runId: string;
  readonly database?: string;
  readonly phase?: string;
  /** Cumulative counts of the database in the run (not deltas). */
  readonly planned?: number;
  readonly done?: number;
  readonly skipped?: number;
  readonly failed?: number;
  readonly remaining?: number;
  /** Failed DEKs of the database by error code (cumulative). */
  readonly failures?: Readonly<Record<string, number>>;
  readonly at: number;
}

/** The stream and channel key of live events under a prefix. */
export function eventsKey(prefix: string): string {
  return `${prefix}:events`;
}

/** Publishes live events; failures are swallowed because the control store is the record. */
export class ProgressPublisher {
  readonly #redis: RedisConnection;
  readonly #key: string;

  constructor(redis: RedisConnection, prefix: string) {
    this.#redis = redis;
    this.#key = eventsKey(prefix);
  }

  async publish(event: Omit<ProgressEvent, 'at'>): Promise<void> {
    const full: ProgressEvent = { ...event, at: Date.now() };
    const json = JSON.stringify(full);
    try {
      await this.#redis
        .multi()
        .xadd(this.#key, 'MAXLEN', '~', '10000', '*', 'event', json)
        .publish(this.#key, json)
        .exec();
    } catch {
      // Live events are best effort; progress is recorded in the control store.
    }
  }
}
