/**
 * Runs the examples as a user would, as their own processes, so that they cannot rot: the
 * PostgreSQL + AWS KMS example on Node and on Deno, against the local PostgreSQL and the KMS
 * emulator, then looks at what they left in the database and what KMS was asked.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { connect } from '../../examples/postgres-aws-kms/database.ts';
import { type KmsEmulator, startKmsEmulator } from '../kms-emulator/index.ts';

const examples = fileURLToPath(new URL('../../examples/', import.meta.url));
const deno = fileURLToPath(new URL('../../node_modules/.bin/deno', import.meta.url));
const DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: examples, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const runtimes = {
  node: [
    process.execPath,
    ['--conditions=@rekey/source', '--import', 'tsx', 'postgres-aws-kms/main.ts'],
  ],
  deno: [
    deno,
    [
      'run',
      '--allow-net',
      '--allow-env',
      '--allow-read',
      '--allow-sys',
      'postgres-aws-kms/main.deno.ts',
    ],
  ],
} as const;

describe('the PostgreSQL + AWS KMS example', () => {
  let kms: KmsEmulator;
  beforeAll(async () => {
    kms = await startKmsEmulator();
  });
  afterAll(() => kms.close());

  for (const [runtime, [command, args]] of Object.entries(runtimes)) {
    it(`runs on ${runtime}, refuses a moved value, shreds a tenant and stores only ciphertext`, async () => {
      const suffix = randomBytes(4).toString('hex');
      const prefix = `ex_${suffix}_`;
      const sql = connect(DATABASE_URL);
      kms.resetCounts();
      try {
        const result = await run(command, args, {
          DATABASE_URL,
          KMS_ENDPOINT: kms.endpoint,
          AWS_REGION: kms.region,
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          EXAMPLE_KEK_NAME: `customers_${suffix}`,
          EXAMPLE_TABLE_PREFIX: prefix,
        });
        expect(result.stderr).not.toMatch(/Error:/);
        expect(result.code).toBe(0);

        const lines = result.stdout.trim().split('\n');
        expect(JSON.parse(lines.at(-1) ?? '')).toEqual({
          kekVersions: 2,
          customers: 4,
          readable: 3,
          movedValueRejected: true,
          shreddedDeks: 1,
          unreadableAfterShred: 1,
          dekRefs: 2,
        });
        expect(result.stdout).toContain('read back: alice@acme.test');

        const customers = await sql<{ tenant: string; email: string }[]>`
          SELECT tenant, email FROM ${sql(`${prefix}customers`)}`;
        expect(customers).toHaveLength(4);
        for (const { email } of customers) {
          expect(email).toMatch(/^rk:[A-Za-z0-9_-]+$/);
          expect(email).not.toContain('@');
        }
        const deks = await sql<{ scope: string; kek_ref: string }[]>`
          SELECT scope, kek_ref FROM ${sql(`${prefix}rekey_deks`)} ORDER BY scope`;
        expect(deks.map((d) => d.scope)).toEqual(['acme', 'initech']);
        expect(new Set(deks.map((d) => d.kek_ref)).size).toBe(2);
        for (const { kek_ref } of deks) expect(kek_ref).toMatch(/^aws-kms:arn:aws:kms:/);

        const calls = kms.counts().byOperation;
        expect(calls.CreateKey).toBe(2);
        expect(calls.Encrypt).toBeGreaterThanOrEqual(3);
      } finally {
        await sql.unsafe(`DROP TABLE IF EXISTS "${prefix}customers", "${prefix}rekey_deks",
          "${prefix}rekey_deks_schema"`);
        await sql.end();
      }
    }, 120_000);
  }
});
