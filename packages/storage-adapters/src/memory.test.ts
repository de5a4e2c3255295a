import { describeDekStore } from './conformance/index.ts';
import { MemoryDekStore } from './memory.ts';

describeDekStore(
  'memory',
  async () => {
    const store = new MemoryDekStore();
    return { store, dispose: () => store.close() };
  },
  { connectionless: true },
);
