import { rmSync } from 'node:fs';
import { after } from 'node:test';
import { tempServiceRoot, type LocalService } from '../src/cluster/services/localService.js';
import { createDatabase, postgresBinDir, startPostgres } from '../src/cluster/services/postgres.js';
import { freePort } from './processes.js';

export interface TestPostgres {
  /** A new, empty database on the file's server (started on first use); returns its URL. */
  freshDatabase(extensions?: string[]): Promise<string>;
}

/**
 * One PostgreSQL server per test file, durability off, stopped after the file's tests. Null when
 * PostgreSQL is not installed: the caller skips, loudly; on CI (CI=true) that is an error instead.
 */
export function testPostgres(prefix: string): TestPostgres | null {
  if (!postgresBinDir()) {
    if (process.env.CI === 'true') throw new Error('PostgreSQL is not installed, and CI=true forbids skipping (apt-get install postgresql postgis)');
    console.warn('\n*** PostgreSQL is not installed: skipping its tests (apt-get install postgresql postgis) ***\n');
    return null;
  }
  let server: Promise<{ service: LocalService; dir: string }> | undefined;
  let databases = 0;
  after(async () => {
    if (!server) return;
    const { service, dir } = await server;
    await service.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    async freshDatabase(extensions = []) {
      server ??= (async () => {
        const dir = tempServiceRoot(prefix);
        return { service: await startPostgres({ dir, port: await freePort(), fast: true }), dir };
      })();
      const { service } = await server;
      return createDatabase(service, `test_${++databases}`, extensions);
    },
  };
}
