/** The BullMQ queues of the engine, created lazily under one hash-tagged prefix. */
import { type JobsOptions, Queue } from 'bullmq';
import {
  batchQueueName,
  CONTROL_QUEUE,
  jobIds,
  type PlanJob,
  type PrepareJob,
  type RewrapJob,
  type RunStepJob,
} from './job-names.ts';
import type { RedisConnection } from './redis-connection.ts';

/** Job options of every engine job: retried with back-off, removed once done. */
export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 12,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: true,
  removeOnFail: { count: 1000 },
};

/** Adds engine jobs with deterministic ids (re-adding an existing job is a no-op). */
export class EngineQueues {
  readonly prefix: string;
  readonly #connection: RedisConnection;
  readonly #queues = new Map<string, Queue>();

  constructor(connection: RedisConnection, prefix: string) {
    this.prefix = prefix;
    this.#connection = connection;
  }

  /** The queue called `name`, created on first use. */
  queue(name: string): Queue {
    let queue = this.#queues.get(name);
    if (queue === undefined) {
      queue = new Queue(name, {
        connection: this.#connection,
        prefix: this.prefix,
        defaultJobOptions: DEFAULT_JOB_OPTIONS,
      });
      this.#queues.set(name, queue);
    }
    return queue;
  }

  get control(): Queue {
    return this.queue(CONTROL_QUEUE);
  }

  async addPrepare(data: PrepareJob, sweep: number): Promise<void> {
    await this.control.add('prepare', data, { jobId: jobIds.prepare(data.runId, sweep) });
  }

  async addPlan(data: PlanJob, delay = 0): Promise<void> {
    await this.control.add('plan', data, {
      jobId: jobIds.plan(data.runId, data.database, data.sweep),
      delay,
    });
  }

  /** Adds rewrap jobs of one database in one round trip. */
  async addRewraps(database: string, jobs: readonly RewrapJob[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.queue(batchQueueName(database)).addBulk(
      jobs.map((data) => ({
        name: 'rewrap',
        data,
        opts: { jobId: jobIds.rewrap(data.runId, data.sweep, data.start) },
      })),
    );
  }

  async addVerify(data: RunStepJob, delay = 0): Promise<void> {
    await this.control.add('verify', data, { jobId: jobIds.verify(data.runId, data.sweep), delay });
  }

  async addRetire(data: RunStepJob, delay: number): Promise<void> {
    await this.control.add('retire', data, { jobId: jobIds.retire(data.runId), delay });
  }

  async close(): Promise<void> {
    await Promise.all([...this.#queues.values()].map((q) => q.close()));
    this.#queues.clear();
  }
}
