import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';

import { afterAll, describe, expect, it } from 'vitest';

import { parseConfig } from '../config/load-config.ts';
import { runCli } from './run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'rekey-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const code = await runCli(args, { stdout, stderr, env: { INIT_CWD: dir, ...env } });
  return { code, out, err };
}

const COMMANDS = [
  'init',
  'worker',
  'rotate',
  'status',
  'inventory',
  'verify',
  'retire',
  'seed',
  'pause',
  'resume',
  'cancel',
  'retry',
];

describe('the rekey CLI', () => {
  it.each(COMMANDS)('prints help for %s and exits 0', async (command) => {
    const { code, out } = await cli([command, '--help']);
    expect(code).toBe(0);
    expect(out).toMatch(new RegExp(`^Usage: rekey ${command}`));
  });

  it('exits 2 on an unknown command, a missing argument or an unknown option', async () => {
    expect((await cli(['frobnicate'])).code).toBe(2);
    expect((await cli(['rotate'])).code).toBe(2);
    const unknown = await cli(['status', '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('Usage: rekey status');
  });

  it('exits 2 with the path when no config file is found', async () => {
    const { code, err } = await cli(['status'], { REKEY_CONFIG: 'nope.json' });
    expect(code).toBe(2);
    expect(err).toContain(`${join(dir, 'nope.json')}: config file not found`);
  });

  it('writes a starter config that validates, and refuses to overwrite it', async () => {
    expect((await cli(['init'])).code).toBe(0);
    const written = JSON.parse(readFileSync(join(dir, 'rekey.config.json'), 'utf8'));
    expect(() => parseConfig(written, dir, {})).not.toThrow();
    const again = await cli(['init']);
    expect(again.code).toBe(2);
    expect(again.err).toContain('exists; use --force');
  });
});
