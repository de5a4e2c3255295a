/**
 * @module
 * `@rekey/kek-providers/conformance`: the `KekProvider` conformance suite, for vitest (and the
 * Deno shim that maps vitest onto `deno test`). Run it against any provider, including your own.
 */
export {
  describeKekProvider,
  type KekProviderConformanceOptions,
  type KekProviderFactory,
  type KekProviderFixture,
} from './describe-kek-provider.ts';
