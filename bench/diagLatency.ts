// TEMPORARY diagnostic (deleted after use): where does publish -> searchable time go?
import net from 'node:net';
import { syncBuiltinESMExports } from 'node:module';
import { SqliteBus } from '../src/adapters/embedded/sqliteBus.js';
import { SqliteWriteStore } from '../src/adapters/embedded/sqliteWriteStore.js';
import { SqliteSearchIndex } from '../src/adapters/embedded/sqliteSearchIndex.js';
import { CompletionWatcher, runProbe } from './probes.js';
import { percentile, rng, startPlatform, Track } from './support.js';

const noDelay = process.argv[2] === 'nodelay';
if (noDelay) {
  const orig = net.createServer;
  (net as { createServer: unknown }).createServer = (...args: Parameters<typeof net.createServer>) => {
    const s = orig(...args);
    s.on('connection', (sock) => sock.setNoDelay(true));
    return s;
  };
  const origConn = net.createConnection;
  (net as { createConnection: unknown }).createConnection = (...args: unknown[]) => { const s = (origConn as (...a: unknown[]) => net.Socket)(...args); s.setNoDelay(true); return s; };
  syncBuiltinESMExports();
}
const marks: Array<[string, number]> = [];
let t0 = 0;
const wrap = (proto: Record<string, unknown>, name: string, label: string) => {
  const orig = proto[name] as (...a: unknown[]) => unknown;
  proto[name] = function (this: unknown, ...a: unknown[]) {
    const s = performance.now();
    const r = orig.apply(this, a);
    if (t0) marks.push([label, s - t0], [label + '.end', performance.now() - t0]);
    return r;
  };
};
wrap(SqliteBus.prototype as never, 'append', 'bus.append');
wrap(SqliteBus.prototype as never, 'flush', 'bus.flush');
wrap(SqliteWriteStore.prototype as never, 'commit', 'store.commit');
wrap(SqliteSearchIndex.prototype as never, 'apply', 'search.apply');

const bp = await startPlatform();
const watcher = new CompletionWatcher(bp.platform);
const random = rng(5);
const lat: number[] = [];
const origNow = performance.now.bind(performance);
for (let i = 0; i < 30; i++) {
  marks.length = 0;
  // crude: runProbe sets its own t0; we set ours just before by hooking publish of the last message
  const p = runProbe(bp.mqttUrl, watcher, `d-${i}`, Track.random(random, Date.now() - 60_000), 30, 10);
  // mark t0 when 3 earlier batches are done: approximate by waiting for bus.append count
  const r = await p;
  lat.push(r.searchableMs);
  if (i >= 25) console.log(JSON.stringify(r), marks.slice(-12).map(([l, t]) => `${l}@${t.toFixed(1)}`).join(' '));
}
void origNow;
console.log(noDelay ? 'nodelay' : 'default', 'p50', percentile(lat, 50).toFixed(1), 'p99', percentile(lat, 99).toFixed(1));
await bp.stop();
