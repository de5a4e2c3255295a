/**
 * One worker process: BullMQ workers for the control queue and every database's batch queue,
 * plus leader duties (job schedulers, reconciling runs from the control store, noticing a Redis
 * loss). `stop()` stops taking jobs, releases a running batch at its next page boundary, and
 * waits up to the shutdown deadline.
 */

import { hasErrorCode, type RateLimitError } from '@rekey/crypto-core';
import { DelayedError, type Job, Worker } from 'bullmq';
import { advanceRun } from './advance-run.ts';
import type { EngineContext } from './engine-context.ts';
import { errorCode, sanitizeJobError } from './job-errors.ts';
import {
  batchQueueName,
  CONTROL_QUEUE,
  jobIds,
  type PlanJob,
  type PrepareJob,
  type RewrapJob,
  type RunStepJob,
  type ScheduledRotateJob,
} from './job-names.ts';
import { LeaderLock } from './leader.ts';
import { planDatabase } from './plan-database.ts';
import { reconcileRuns } from './reconcile.ts';
import { assertNoEviction } from './redis-connection.ts';
import { rewrapRange } from './rewrap-range.ts';
import { prepareRun, retireRun, verifyRun } from './run-steps.ts';
import { triggerRotation } from './trigger-run.ts';

/** How long a paused run's range waits before it looks again. */
const PAUSED_RECHECK_MS = 5_000;

/** Timing knobs; the defaults suit production, tests shorten them. */
export interface RotationWorkerOptions {
  /** How often the leader lock is renewed and the Redis-loss sentinel checked. Default 2 s. */
  readonly tickMs?: number;
  /** How often the leader re-enqueues the work of active runs anyway. Default 30 s. */
  readonly reconcileMs?: number;
  /** A job whose worker died is taken over after about this long. Default 15 s. */
  readonly lockDurationMs?: number;
  /** Take part in leader election (schedules, reconcile). Default true. */
  readonly lead?: boolean;
}

/** Runs the queues of one worker process. */
export class RotationWorker {
  readonly #ctx: EngineContext;
  readonly #options: Required<RotationWorkerOptions>;
  readonly #workers: Worker[] = [];
  readonly #leader: LeaderLock;
  readonly #abort = new AbortController();
  #stopping = false;
  #leading = false;
  #timer: NodeJS.Timeout | undefined;
  #lastReconcile = 0;
  #tick: Promise<void> = Promise.resolve();

  constructor(ctx: EngineContext, options: RotationWorkerOptions = {}) {
    this.#ctx = ctx;
    this.#options = {
      tickMs: options.tickMs ?? 2_000,
      reconcileMs: options.reconcileMs ?? 30_000,
      lockDurationMs: options.lockDurationMs ?? 15_000,
      lead: options.lead ?? true,
    };
    this.#leader = new LeaderLock(ctx.redis, ctx.prefix);
  }

  /** True while this worker holds the leader lock. */
  get leading(): boolean {
    return this.#leading;
  }

  /**
   * Checks Redis, then starts consuming jobs and, if elected, leading.
   *
   * @throws {ConfigError} when Redis may evict keys.
   */
  async start(): Promise<void> {
    const ctx = this.#ctx;
    await assertNoEviction(ctx.redis);
    const common = {
      connection: ctx.redis,
      prefix: ctx.prefix,
      lockDuration: this.#options.lockDurationMs,
      stalledInterval: Math.max(1_000, Math.floor(this.#options.lockDurationMs / 2)),
      // A job may outlive several killed workers; each death counts as one stall.
      maxStalledCount: 20,
    };
    this.#workers.push(
      new Worker(CONTROL_QUEUE, (job) => this.#control(job), { ...common, concurrency: 4 }),
    );
    for (const db of ctx.databases.values()) {
      const name = batchQueueName(db.name);
      await ctx.queues.queue(name).setGlobalConcurrency(db.concurrency);
      const worker: Worker = new Worker(name, (job, token) => this.#batch(worker, job, token), {
        ...common,
        concurrency: Math.min(db.concurrency, ctx.limits.batchesPerWorker ?? db.concurrency),
      });
      worker.on('failed', (job, error) => void this.#batchFailed(job, error));
      this.#workers.push(worker);
    }
    for (const w of this.#workers) w.on('error', () => {});
    ctx.logger.info(
      { event: 'worker.started', databases: ctx.databases.size, keks: ctx.keks.size },
      'worker started',
    );
    if (this.#options.lead) {
      this.#tick = this.#leaderTick();
      this.#timer = setInterval(() => {
        this.#tick = this.#tick.then(() => this.#leaderTick());
      }, this.#options.tickMs);
    }
  }

  /**
   * Stops taking jobs; a running batch is released at its next page boundary. Resolves when
   * every job has finished or been released, or at the deadline (then the job's lock lapses and
   * another worker takes it over).
   */
  async stop(deadlineMs = this.#ctx.limits.shutdownDeadlineMs): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#ctx.logger.info({ event: 'worker.stopping' }, 'worker stopping');
    if (this.#timer !== undefined) clearInterval(this.#timer);
    const closing = Promise.all(this.#workers.map((w) => w.close()));
    let timeout: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      timeout = setTimeout(() => resolve('deadline'), deadlineMs);
    });
    const outcome = await Promise.race([closing.then(() => 'closed' as const), deadline]);
    clearTimeout(timeout);
    if (outcome === 'deadline') {
      this.#abort.abort();
      await Promise.all(this.#workers.map((w) => w.close(true)));
    }
    await this.#tick.catch(() => {});
    if (this.#leading) await this.#leader.release().catch(() => {});
    this.#ctx.logger.info({ event: 'worker.stopped', outcome }, 'worker stopped');
  }

  async #control(job: Job): Promise<void> {
    const ctx = this.#ctx;
    try {
      switch (job.name) {
        case 'prepare':
          return await prepareRun(ctx, job.data as PrepareJob);
        case 'plan':
          return await planDatabase(ctx, job.data as PlanJob);
        case 'verify':
          return await verifyRun(ctx, job.data as RunStepJob);
        case 'retire':
          return await retireRun(ctx, job.data as RunStepJob);
        case 'scheduled-rotate': {
          const { kekName } = job.data as ScheduledRotateJob;
          await triggerRotation(ctx, {
            kekName,
            databases: [...ctx.databases.keys()],
            trigger: `schedule:${job.id}`,
            actor: 'scheduler',
          });
          return;
        }
        default:
          return;
      }
    } catch (error) {
      ctx.logger.warn(
        { event: 'job.error', job: job.name, jobId: job.id, code: errorCode(error) },
        'job failed, will retry',
      );
      throw sanitizeJobError(error);
    }
  }

  async #batch(worker: Worker, job: Job, token: string | undefined): Promise<void> {
    const ctx = this.#ctx;
    const data = job.data as RewrapJob;
    try {
      const outcome = await rewrapRange(ctx, data, {
        shouldStop: () => this.#stopping,
        signal: this.#abort.signal,
      });
      if (outcome.released && outcome.reason !== 'cancelled' && token !== undefined) {
        // Hand the rest of the range back at once instead of holding it until the lock lapses;
        // a paused run's ranges come back every few seconds to look again.
        const delay = outcome.reason === 'paused' ? PAUSED_RECHECK_MS : 100;
        await job.moveToDelayed(Date.now() + delay, token);
        throw new DelayedError();
      }
    } catch (error) {
      if (error instanceof DelayedError) throw error;
      if (hasErrorCode(error, 'KEK_RATE_LIMITED')) {
        const wait = Math.max(100, (error as RateLimitError).retryAfterMs ?? 1_000);
        ctx.logger.warn(
          { event: 'provider.throttled', runId: data.runId, waitMs: wait },
          'throttled',
        );
        await worker.rateLimit(wait);
        throw Worker.RateLimitError();
      }
      ctx.logger.warn(
        {
          event: 'batch.error',
          runId: data.runId,
          database: data.database,
          code: errorCode(error),
          attempt: job.attemptsMade + 1,
        },
        'batch failed, will retry',
      );
      throw sanitizeJobError(error);
    }
  }

  /** A batch out of attempts: its range is marked failed; verify will sweep what it left. */
  async #batchFailed(job: Job | undefined, _error: Error): Promise<void> {
    if (job === undefined) return;
    const attempts = job.opts.attempts ?? 1;
    if (job.attemptsMade < attempts) return;
    const data = job.data as RewrapJob;
    try {
      await this.#ctx.control.finishRange(
        data.runId,
        data.database,
        data.sweep,
        data.start,
        'failed',
      );
      this.#ctx.logger.error(
        { event: 'batch.gave-up', runId: data.runId, database: data.database, attempts },
        'batch gave up; verify will sweep its DEKs',
      );
      await advanceRun(this.#ctx, data.runId, data.sweep);
    } catch {
      // The reconciler re-enqueues the range if this bookkeeping did not land.
    }
  }

  async #leaderTick(): Promise<void> {
    if (this.#stopping) return;
    const ctx = this.#ctx;
    try {
      const leading = await this.#leader.hold();
      if (leading && !this.#leading) ctx.logger.info({ event: 'leader.acquired' }, 'leading');
      const justElected = leading && !this.#leading;
      this.#leading = leading;
      if (!leading) return;

      // The sentinel vanishes with FLUSHALL or a failover to an empty replica.
      const sentinel = `${ctx.prefix}:alive`;
      const redisLost = (await ctx.redis.set(sentinel, String(Date.now()), 'NX')) === 'OK';
      if (justElected || redisLost) await this.#upsertSchedules();
      if (
        justElected ||
        redisLost ||
        Date.now() - this.#lastReconcile >= this.#options.reconcileMs
      ) {
        this.#lastReconcile = Date.now();
        if (redisLost && !justElected)
          ctx.logger.warn({ event: 'redis.lost' }, 'redis lost its keys');
        for (const db of ctx.databases.values()) {
          await ctx.queues.queue(batchQueueName(db.name)).setGlobalConcurrency(db.concurrency);
        }
        const runs = await reconcileRuns(ctx);
        if (runs > 0)
          ctx.logger.info({ event: 'runs.reconciled', runs }, 'active runs re-enqueued');
      }
    } catch (error) {
      ctx.logger.warn({ event: 'leader.error', code: errorCode(error) }, 'leader tick failed');
    }
  }

  async #upsertSchedules(): Promise<void> {
    const ctx = this.#ctx;
    const queue = ctx.queues.control;
    const wanted = new Set<string>();
    for (const kek of ctx.keks.values()) {
      if (kek.schedule === undefined) continue;
      const id = jobIds.schedule(kek.name);
      wanted.add(id);
      const repeat =
        'cron' in kek.schedule
          ? { pattern: kek.schedule.cron, tz: 'UTC' }
          : { every: kek.schedule.everyMs };
      await queue.upsertJobScheduler(id, repeat, {
        name: 'scheduled-rotate',
        data: { kekName: kek.name } satisfies ScheduledRotateJob,
      });
    }
    for (const s of await queue.getJobSchedulers()) {
      const id = s.key;
      if (id.startsWith('schedule.') && !wanted.has(id)) await queue.removeJobScheduler(id);
    }
  }
}
