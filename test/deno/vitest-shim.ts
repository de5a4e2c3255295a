/**
 * Lets the packages' vitest suites run unchanged under `deno test`: each package's deno.json maps
 * the `vitest` import here. Suites map onto Deno's `node:test`, assertions onto Jest's standalone
 * `expect`, which speaks the same matcher language as vitest's.
 *
 * NOTE: only what the portable suites use is here: `describe`, `it`/`test` (with `.skip`,
 * `.each`), the four hooks and `expect`. `vi` mocks are Node-side only, on purpose.
 */
import {
  after,
  afterEach,
  before,
  beforeEach,
  describe as nodeDescribe,
  it as nodeIt,
} from 'node:test';
import { expect } from 'npm:expect@^30';

type Body = () => unknown;
type Options = number | { timeout?: number };

function timeoutOf(options?: Options): { timeout?: number } {
  if (typeof options === 'number') return { timeout: options };
  return options?.timeout === undefined ? {} : { timeout: options.timeout };
}

function format(name: string, args: readonly unknown[]): string {
  let i = 0;
  return name.replace(/%[sdijo]/g, () => String(args[i++]));
}

function makeIt() {
  const fn = (name: string, body?: Body, options?: Options) =>
    nodeIt(
      name,
      timeoutOf(options),
      body === undefined ? undefined : async () => void (await body()),
    );
  fn.skip = (name: string, _body?: Body) => nodeIt.skip(name, () => {});
  fn.only = fn;
  fn.skipIf = (condition: unknown) => (condition ? fn.skip : fn);
  fn.runIf = (condition: unknown) => (condition ? fn : fn.skip);
  fn.each =
    <T>(cases: readonly T[]) =>
    (name: string, body: (value: T) => unknown, options?: Options) => {
      for (const c of cases) {
        const args = Array.isArray(c) ? c : [c];
        fn(format(name, args), () => (body as (...a: unknown[]) => unknown)(...args), options);
      }
    };
  return fn;
}

export const it = makeIt();
export const test = it;

function makeDescribe() {
  const fn = (name: string, body: () => void) => nodeDescribe(name, body);
  fn.skip = (name: string, body: () => void) => nodeDescribe.skip(name, body);
  fn.only = fn;
  fn.skipIf = (condition: unknown) => (condition ? fn.skip : fn);
  fn.runIf = (condition: unknown) => (condition ? fn : fn.skip);
  fn.each =
    <T>(cases: readonly T[]) =>
    (name: string, body: (value: T) => void) => {
      for (const c of cases) {
        const args = Array.isArray(c) ? c : [c];
        fn(format(name, args), () => (body as (...a: unknown[]) => void)(...args));
      }
    };
  return fn;
}

export const describe = makeDescribe();
export const beforeAll = (body: Body) => before(async () => void (await body()));
export const afterAll = (body: Body) => after(async () => void (await body()));
export { afterEach, beforeEach, expect };
