import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@rekey/source'] },
  ssr: { resolve: { conditions: ['@rekey/source'] } },
  test: { include: ['src/**/*.test.ts'] },
});
