/**
 * A small AWS KMS emulator for tests and benchmarks: a loopback HTTP server (node:http, so it
 * runs on Node and Deno) speaking the AWS JSON 1.1 protocol, driven by the real
 * `@aws-sdk/client-kms`. It keeps real key state (AES-256-GCM under per-key material), can
 * enforce a request rate (answering `ThrottlingException` past it), can add latency, and counts
 * requests per operation. Not shipped: it lives in `test/`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { KmsFault, KmsState } from './kms-state.ts';
import { type RateLimit, TokenBucket } from './token-bucket.ts';

export type { RateLimit };

/** The operations the emulator answers. */
export const KMS_OPERATIONS = [
  'CreateAlias',
  'CreateKey',
  'Decrypt',
  'DescribeKey',
  'DisableKey',
  'EnableKey',
  'Encrypt',
  'GenerateDataKey',
  'ListAliases',
  'ListKeys',
  'ListResourceTags',
  'ReEncrypt',
  'TagResource',
  'UpdateAlias',
] as const;

export type KmsOperation = (typeof KMS_OPERATIONS)[number];

/** A failure the next request of an operation meets, for tests of failure paths. */
export type KmsInjectedFault =
  /** Answered with this error `__type` (HTTP 400); the request changes nothing. */
  | { readonly refuse: string }
  /** Carried out, then the connection is closed without an answer, as when a response is lost. */
  | { readonly loseAnswer: true }
  /**
   * `ListAliases` only: the answer leaves out these alias names, as an eventually consistent
   * listing that has not caught up with recent `CreateAlias` calls does.
   */
  | { readonly omitAliases: readonly string[] };

export interface KmsEmulatorOptions {
  /** Requests past this rate are answered with `ThrottlingException`. Default: no limit. */
  readonly rateLimit?: RateLimit;
  /** Milliseconds added before every answer. Default 0. */
  readonly latencyMs?: number;
  readonly region?: string;
  readonly account?: string;
}

/** Requests seen, per operation: every answer, and the throttled ones among them. */
export interface KmsRequestCounts {
  readonly total: number;
  readonly throttled: number;
  readonly byOperation: Readonly<Record<string, number>>;
  readonly throttledByOperation: Readonly<Record<string, number>>;
  /** Answers that were errors other than throttling, per `__type`. */
  readonly errorsByType: Readonly<Record<string, number>>;
}

export interface KmsEmulator {
  /** `http://127.0.0.1:<port>`, for the SDK's `endpoint`. */
  readonly endpoint: string;
  readonly region: string;
  counts(): KmsRequestCounts;
  resetCounts(): void;
  setRateLimit(limit: RateLimit | undefined): void;
  setLatency(ms: number): void;
  /**
   * The next `count` requests of `operation` wait until all of them have arrived, then are
   * answered in arrival order: callers racing each other meet at that step on every run.
   */
  holdRequests(operation: KmsOperation, count: number): void;
  /** The next request of `operation` (not counting throttled ones) meets `fault`. */
  injectFault(operation: KmsOperation, fault: KmsInjectedFault): void;
  /** Drops the faults not met yet and releases every held request. */
  clearInjections(): void;
  close(): Promise<void>;
}

const CONTENT_TYPE = 'application/x-amz-json-1.1';
const TARGET_PREFIX = 'TrentService.';

/** Starts an emulator on a free loopback port. */
export async function startKmsEmulator(options: KmsEmulatorOptions = {}): Promise<KmsEmulator> {
  const region = options.region ?? 'us-east-1';
  const state = new KmsState(region, options.account ?? '111122223333');
  let bucket = options.rateLimit === undefined ? undefined : new TokenBucket(options.rateLimit);
  let latencyMs = options.latencyMs ?? 0;
  let counts = emptyCounts();
  let requestId = 0;
  const holds = new Map<string, Hold>();
  const faults = new Map<string, KmsInjectedFault[]>();

  const server = createServer((request, response) => {
    void handle(request, response);
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const target = String(request.headers['x-amz-target'] ?? '');
    const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
    const id = `emulator-${++requestId}`;
    count(counts.byOperation, operation || '(none)');
    counts.total++;
    // Throttling is decided on arrival, as a quota would; latency applies to every answer.
    const allowed = bucket?.take() ?? true;
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    await waitForHold(holds, operation);

    try {
      if (!allowed) {
        count(counts.throttledByOperation, operation);
        counts.throttled++;
        throw new KmsFault('ThrottlingException', 'Rate exceeded');
      }
      const fault = faults.get(operation)?.shift();
      if (fault !== undefined && 'refuse' in fault) {
        throw new KmsFault(fault.refuse, `injected ${fault.refuse}`);
      }
      const result = dispatch(state, request, operation, body);
      if (fault !== undefined && 'loseAnswer' in fault) {
        request.socket.destroy();
        return;
      }
      send(response, 200, id, fault === undefined ? result : withoutAliases(result, fault));
    } catch (error) {
      const fault =
        error instanceof KmsFault ? error : new KmsFault('KMSInternalException', 'internal', 500);
      if (fault.type !== 'ThrottlingException') count(counts.errorsByType, fault.type);
      response.setHeader('x-amzn-ErrorType', fault.type);
      send(response, fault.status, id, { __type: fault.type, message: fault.message });
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    region,
    counts: () => structuredClone(counts),
    resetCounts: () => {
      counts = emptyCounts();
    },
    setRateLimit: (limit) => {
      bucket = limit === undefined ? undefined : new TokenBucket(limit);
    },
    setLatency: (ms) => {
      latencyMs = ms;
    },
    holdRequests: (operation, total) => {
      let open = (): void => {};
      const released = new Promise<void>((resolve) => {
        open = resolve;
      });
      holds.set(operation, { remaining: total, released, open });
    },
    injectFault: (operation, fault) => {
      faults.set(operation, [...(faults.get(operation) ?? []), fault]);
    },
    clearInjections: () => {
      for (const hold of holds.values()) hold.open();
      holds.clear();
      faults.clear();
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      }),
  };
}

function dispatch(
  state: KmsState,
  request: IncomingMessage,
  operation: string,
  body: string,
): Record<string, unknown> {
  if (request.method !== 'POST') throw new KmsFault('UnknownOperationException', 'POST only');
  if (!String(request.headers['content-type'] ?? '').startsWith(CONTENT_TYPE)) {
    throw new KmsFault('UnknownOperationException', `Content-Type must be ${CONTENT_TYPE}`);
  }
  // Signatures are not verified (any credentials pass), but a request must carry one, as the
  // SDK's SigV4 signer adds: an unsigned client is a bug the tests should see.
  if (!String(request.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 Credential=')) {
    throw new KmsFault('MissingAuthenticationTokenException', 'Missing Authentication Token');
  }
  if (!(KMS_OPERATIONS as readonly string[]).includes(operation)) {
    throw new KmsFault('UnknownOperationException', `unknown operation ${operation}`);
  }
  let input: unknown;
  try {
    input = body === '' ? {} : JSON.parse(body);
  } catch {
    throw new KmsFault('SerializationException', 'request body is not JSON');
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new KmsFault('SerializationException', 'request body must be a JSON object');
  }
  return state[operation as KmsOperation](input as Record<string, unknown>);
}

/** Requests of one operation held until `remaining` more have arrived. */
interface Hold {
  remaining: number;
  readonly released: Promise<void>;
  readonly open: () => void;
}

/**
 * Waits while `operation` is held. Every waiter awaits the same promise, and its reactions run
 * in the order they were registered, so held requests go on in arrival order.
 */
async function waitForHold(holds: Map<string, Hold>, operation: string): Promise<void> {
  const hold = holds.get(operation);
  if (hold === undefined) return;
  hold.remaining--;
  if (hold.remaining <= 0) {
    holds.delete(operation);
    hold.open();
  }
  await hold.released;
}

function send(response: ServerResponse, status: number, id: string, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': CONTENT_TYPE,
    'content-length': Buffer.byteLength(text),
    'x-amzn-RequestId': id,
  });
  response.end(text);
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function emptyCounts(): {
  total: number;
  throttled: number;
  byOperation: Record<string, number>;
  throttledByOperation: Record<string, number>;
  errorsByType: Record<string, number>;
} {
  return { total: 0, throttled: 0, byOperation: {}, throttledByOperation: {}, errorsByType: {} };
}

function count(record: Record<string, number>, key: string): void {
  record[key] = (record[key] ?? 0) + 1;
}

/** A `ListAliases` answer without the aliases an `omitAliases` fault names. */
function withoutAliases(
  result: Record<string, unknown>,
  fault: { readonly omitAliases: readonly string[] },
): Record<string, unknown> {
  if (!Array.isArray(result.Aliases)) return result;
  const aliases = result.Aliases as { AliasName: string }[];
  return { ...result, Aliases: aliases.filter((a) => !fault.omitAliases.includes(a.AliasName)) };
}
