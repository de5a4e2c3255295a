/**
 * Where the example finds PostgreSQL and KMS, read from environment variables through a getter
 * so that the Node and Deno entries share it.
 */

/** What the example connects to and what it names. */
export interface Settings {
  /** postgres.js connection string. */
  readonly databaseUrl: string;
  /** KMS endpoint: LocalStack, the test emulator, or undefined for real AWS KMS. */
  readonly kmsEndpoint: string | undefined;
  readonly region: string;
  /** Explicit credentials for a local endpoint; undefined leaves them to the AWS SDK. */
  readonly credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
  /** The logical KEK that wraps the customers' DEKs (`alias/rekey/<kekName>` in KMS). */
  readonly kekName: string;
  /** Prefix of the two tables, so several runs can share one database. */
  readonly tablePrefix: string;
}

/** Reads {@link Settings} from `env`, with defaults that suit `docker compose up -d`. */
export function readSettings(env: (name: string) => string | undefined): Settings {
  const kmsEndpoint = env('KMS_ENDPOINT') ?? 'http://localhost:4566';
  const localKms = kmsEndpoint !== 'aws';
  const tablePrefix = env('EXAMPLE_TABLE_PREFIX') ?? '';
  if (!/^[a-z_][a-z0-9_]{0,20}$|^$/.test(tablePrefix)) {
    throw new Error('EXAMPLE_TABLE_PREFIX expected lowercase letters, digits and _');
  }
  return {
    databaseUrl: env('DATABASE_URL') ?? 'postgres://postgres@127.0.0.1:5432/test',
    kmsEndpoint: localKms ? kmsEndpoint : undefined,
    region: env('AWS_REGION') ?? 'us-east-1',
    // LocalStack and the emulator take any credentials; real KMS uses the SDK's own chain.
    credentials:
      localKms && env('AWS_ACCESS_KEY_ID') === undefined
        ? { accessKeyId: 'test', secretAccessKey: 'test' }
        : undefined,
    kekName: env('EXAMPLE_KEK_NAME') ?? 'customers',
    tablePrefix,
  };
}
