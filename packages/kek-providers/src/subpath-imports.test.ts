import { readFile } from 'node:fs/promises';

import { describe, expect, it } from 'vitest';

const IMPORT = /(?:^|\n)\s*(?:import|export)\s(?:[^'";]*?\sfrom\s)?\s*['"]([^'"]+)['"]/g;
const DYNAMIC = /import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every bare specifier reachable from an entry file through its static and dynamic imports. */
async function packagesReachedFrom(entry: string): Promise<Set<string>> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const queue = [new URL(entry, import.meta.url)];
  while (queue.length > 0) {
    const file = queue.pop() as URL;
    if (seen.has(file.href)) continue;
    seen.add(file.href);
    const text = await readFile(file, 'utf8');
    for (const match of [...text.matchAll(IMPORT), ...text.matchAll(DYNAMIC)]) {
      const specifier = match[1] as string;
      if (specifier.startsWith('.')) queue.push(new URL(specifier, file));
      else packages.add(specifier);
    }
  }
  return packages;
}

describe('subpath exports', () => {
  it.each([
    './local/index.ts',
    './platform-secret/index.ts',
    './memory.ts',
    './conformance/index.ts',
  ])('%s never reaches the AWS SDK or a native addon', async (entry) => {
    const reached = [...(await packagesReachedFrom(entry))];

    expect(reached.filter((p) => p.startsWith('@aws-sdk/') || p === 'pkcs11js')).toEqual([]);
    expect(reached.some((p) => p.startsWith('@rekey/crypto-core'))).toBe(true);
  });

  it('the aws-kms entry is the one that reaches the AWS SDK', async () => {
    expect(await packagesReachedFrom('./aws-kms/index.ts')).toContain('@aws-sdk/client-kms');
  });
});
