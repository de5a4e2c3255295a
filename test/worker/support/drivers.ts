/**
 * Database drivers for test set-up and clean-up, loaded through the worker package (which
 * depends on them) so that the integration-test package needs no copies of its own.
 *
 * NOTE: a stopgap; test/package.json may list the drivers directly instead.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const fromWorker = createRequire(
  createRequire(import.meta.url).resolve('@rekey/worker/package.json'),
);

/** Imports a dependency of `@rekey/worker` by name. */
export async function workerDependency<T>(name: string): Promise<T> {
  return (await import(pathToFileURL(fromWorker.resolve(name)).href)) as T;
}
