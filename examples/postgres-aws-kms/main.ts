/**
 * The PostgreSQL + AWS KMS example on Node:
 *
 *   docker compose up -d postgres localstack
 *   pnpm --filter @rekey/examples postgres-aws-kms
 *
 * Settings come from DATABASE_URL, KMS_ENDPOINT (`aws` for real AWS KMS), AWS_REGION,
 * EXAMPLE_KEK_NAME and EXAMPLE_TABLE_PREFIX. The last line printed is a JSON summary.
 */
import { runDemo } from './demo.ts';
import { readSettings } from './settings.ts';

const settings = readSettings((name) => process.env[name]);
const summary = await runDemo(settings, (line) => console.log(line));
console.log(JSON.stringify(summary));
