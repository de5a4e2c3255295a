/** Opens the control store the configuration names. */
import type { ControlConfig } from '../config/worker-config.ts';
import type { ControlStore } from './control-store.ts';
import { SqlControlStore } from './sql-control-store.ts';
import { postgresDriver } from './sql-driver.ts';
import { sqliteDriver } from './sqlite-driver.ts';

/** Opens and migrates the control store of `config`. */
export async function openControlStore(config: ControlConfig): Promise<ControlStore> {
  const driver =
    config.kind === 'sqlite' ? sqliteDriver(config.path) : postgresDriver(config.url.reveal());
  const store = new SqlControlStore(driver, config.tablePrefix);
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}
