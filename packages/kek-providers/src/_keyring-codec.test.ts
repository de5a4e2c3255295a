import { randomBytes } from '@rekey/crypto-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { parseKeyring, serializeKeyring } from './_keyring-codec.ts';
import type { KeyringEntry, KeyringModel } from './_keyring-model.ts';

const kekName = fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/);
const date = fc.date({
  min: new Date('2000-01-01T00:00:00Z'),
  max: new Date('2100-01-01T00:00:00Z'),
  noInvalidDate: true,
});

/** Valid keyrings: per name 1-5 versions, increasing, exactly one primary. */
const model = fc
  .uniqueArray(
    fc.tuple(
      kekName,
      fc.array(fc.tuple(date, fc.constantFrom('active', 'disabled')), {
        minLength: 1,
        maxLength: 5,
      }),
      fc.nat(4),
    ),
    { selector: ([name]) => name, maxLength: 4 },
  )
  .map((keks): KeyringModel => {
    const out = new Map<string, readonly KeyringEntry[]>();
    for (const [name, versions, primaryAt] of keks) {
      const p = primaryAt % versions.length;
      out.set(
        name,
        versions.map(([createdAt, state], i) => ({
          tag: `v${i + 1}`,
          createdAt,
          state: i === p ? 'primary' : state,
          key: randomBytes(32),
        })),
      );
    }
    return out;
  });

describe('keyring codec', () => {
  it('round-trips every valid keyring', () => {
    fc.assert(
      fc.property(model, (m) => {
        const text = serializeKeyring(m, 'key');
        expect(serializeKeyring(parseKeyring(text, 'key', 'test'), 'key')).toBe(text);
      }),
    );
  });

  it('answers any damaged keyring with ConfigError, never another error', () => {
    fc.assert(
      fc.property(model, fc.nat(), fc.string({ maxLength: 3 }), (m, at, insert) => {
        const text = serializeKeyring(m, 'key');
        const i = at % (text.length + 1);
        const damaged = text.slice(0, i) + insert + text.slice(i + 1);
        try {
          parseKeyring(damaged, 'key', 'test');
        } catch (error) {
          expect((error as { code?: string }).code).toBe('CONFIG_INVALID');
        }
      }),
      { numRuns: 500 },
    );
  });

  it('answers arbitrary JSON values with ConfigError', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(() => parseKeyring(JSON.stringify(value), 'label', 'test')).toThrow(
          expect.objectContaining({ code: 'CONFIG_INVALID' }),
        );
      }),
    );
  });
});
