/** @module `@rekey/worker/plugins`: opening DekStore and KekProvider plugins by name. */
export {
  type DekStorePlugin,
  importPlugin,
  type OpenedDekStore,
  openDekStore,
} from './plugins/open-dek-store.ts';
export { type KekProviderPlugin, openKekProvider } from './plugins/open-kek-provider.ts';
