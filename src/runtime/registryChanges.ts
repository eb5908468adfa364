import type { DeviceRecord, DeviceRegistry } from '../ports/deviceRegistry.js';

/** Records per `changedSince` query: a bulk import or a first pass over 100k devices is read in bounded pieces. */
const CHANGE_PAGE_SIZE = 500;

/**
 * The devices changed after `revision`, a page at a time, oldest change first (keyset paging on
 * the revision, which is unique). A caller advances its cursor to a page's last revision only
 * once it has handled that page, so a failure part way resumes there.
 */
export async function* changesSince(registry: Pick<DeviceRegistry, 'changedSince'>, revision: number): AsyncGenerator<DeviceRecord[]> {
  let after = revision;
  for (;;) {
    const page = await registry.changedSince(after, CHANGE_PAGE_SIZE);
    if (page.length === 0) return;
    yield page;
    if (page.length < CHANGE_PAGE_SIZE) return;
    after = page.at(-1)!.revision;
  }
}
