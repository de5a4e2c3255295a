import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { AccessTokens, tokensFromEnv } from './tokens.ts';

const viewer = 'viewer-token-aaaaaaaaaaaa';
const operator = 'operator-token-bbbbbbbbbbbb';
const dir = mkdtempSync(join(tmpdir(), 'rekey-tokens-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('access tokens', () => {
  it('tell the role of a presented token and nothing for any other string', () => {
    const tokens = new AccessTokens({ viewer, operator });
    expect(tokens.roleOf(viewer)).toBe('viewer');
    expect(tokens.roleOf(operator)).toBe('operator');
    for (const other of ['', viewer.slice(0, -1), `${operator} `, operator.toUpperCase()]) {
      expect(tokens.roleOf(other)).toBeUndefined();
    }
  });

  it('work with an operator token alone', () => {
    const tokens = new AccessTokens({ operator });
    expect(tokens.roleOf(operator)).toBe('operator');
    expect(tokens.roleOf(viewer)).toBeUndefined();
  });

  it('refuse short tokens and a viewer token equal to the operator token', () => {
    expect(() => new AccessTokens({ operator: 'short' })).toThrow(/at least 16/);
    expect(() => new AccessTokens({ operator, viewer: operator })).toThrow(/must differ/);
  });

  it('come from the environment or from files, without one trailing newline', () => {
    const file = join(dir, 'viewer');
    writeFileSync(file, `${viewer}\n`);
    const tokens = tokensFromEnv({
      REKEY_DASHBOARD_OPERATOR_TOKEN: operator,
      REKEY_DASHBOARD_VIEWER_TOKEN_FILE: file,
    });
    expect(tokens.roleOf(viewer)).toBe('viewer');
    expect(tokens.roleOf(operator)).toBe('operator');
  });

  it('name the missing variable and never the token value', () => {
    expect(() => tokensFromEnv({})).toThrow(/REKEY_DASHBOARD_OPERATOR_TOKEN/);
    expect(() =>
      tokensFromEnv({ REKEY_DASHBOARD_OPERATOR_TOKEN_FILE: join(dir, 'missing') }),
    ).toThrow(/cannot be read/);
    try {
      tokensFromEnv({ REKEY_DASHBOARD_OPERATOR_TOKEN: 'too-short-token' });
    } catch (error) {
      expect(String(error)).not.toContain('too-short-token');
    }
  });
});
