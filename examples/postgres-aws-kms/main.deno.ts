/**
 * The PostgreSQL + AWS KMS example on Deno 2, the same walk-through as `main.ts`:
 *
 *   deno run --allow-net --allow-env --allow-read --allow-sys postgres-aws-kms/main.deno.ts
 *
 * In this repository the `@rekey/*` imports resolve to the workspace sources and `postgres` /
 * `@aws-sdk/client-kms` to examples/node_modules. In your own project, map them in deno.json:
 * `"@rekey/crypto-core": "jsr:@rekey/crypto-core@^0.1"` (likewise the other two) and
 * `"postgres": "npm:postgres@^3.4"`, `"@aws-sdk/client-kms": "npm:@aws-sdk/client-kms@^3"`.
 */
import { runDemo } from './demo.ts';
import { readSettings } from './settings.ts';

const settings = readSettings((name) => Deno.env.get(name));
const summary = await runDemo(settings, (line) => console.log(line));
console.log(JSON.stringify(summary));
