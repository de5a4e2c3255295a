import { describeKekProvider } from './conformance/index.ts';
import { MemoryKekProvider } from './memory.ts';

describeKekProvider('memory', async () => ({ provider: new MemoryKekProvider() }), {
  rewrap: false,
});
