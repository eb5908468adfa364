/**
 * Streams an OpenStreetMap XML extract (.osm, or .osm.gz) and keeps what speed limits need: the
 * position of every node, and the ways that satisfy `keepWay` with their tags and node refs.
 * Nodes live in flat typed arrays (24 bytes each, no per-node object), since an extract holds
 * many more nodes than road ways. Elements may come in any order; refs resolve at the end.
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import sax from 'sax';

export interface OsmWay {
  id: number;
  tags: Record<string, string>;
  refs: number[];
}

export interface OsmExtract {
  ways: OsmWay[];
  /** The position of a node, or undefined when the extract lacks it (a way cut at its border). */
  nodePosition(id: number): { lat: number; lon: number } | undefined;
  nodeCount: number;
}

/** A Float64Array that doubles when full. */
class GrowableF64 {
  data = new Float64Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  view(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

function nodeTable(ids: Float64Array, lats: Float64Array, lons: Float64Array): OsmExtract['nodePosition'] {
  let sortedIds = ids;
  let order: Uint32Array | null = null;
  // Exports (osmium, Overpass, the editing API) sort nodes by id; sort only if this one does not.
  for (let i = 1; i < ids.length; i++) {
    if ((ids[i] ?? 0) < (ids[i - 1] ?? 0)) {
      const o = Uint32Array.from(ids.keys()).sort((a, b) => (ids[a] ?? 0) - (ids[b] ?? 0));
      order = o;
      sortedIds = Float64Array.from(o, (k) => ids[k] ?? 0);
      break;
    }
  }
  return (id) => {
    let lo = 0;
    let hi = sortedIds.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = sortedIds[mid] ?? 0;
      if (v < id) lo = mid + 1;
      else if (v > id) hi = mid - 1;
      else {
        const k = order ? (order[mid] ?? 0) : mid;
        return { lat: lats[k] ?? 0, lon: lons[k] ?? 0 };
      }
    }
    return undefined;
  };
}

export async function readOsmXml(file: string, keepWay: (tags: Record<string, string>) => boolean): Promise<OsmExtract> {
  const ids = new GrowableF64();
  const lats = new GrowableF64();
  const lons = new GrowableF64();
  const ways: OsmWay[] = [];
  let way: OsmWay | null = null;

  const parser = sax.parser(true, { trim: false, normalize: false });
  parser.onopentag = (tag) => {
    const a = tag.attributes as Record<string, string>;
    if (tag.name === 'node') {
      const id = Number(a.id);
      const lat = Number(a.lat);
      const lon = Number(a.lon);
      // Deleted or invisible nodes in history/change files have no position: skip them.
      if (Number.isFinite(id) && Number.isFinite(lat) && Number.isFinite(lon)) {
        ids.push(id);
        lats.push(lat);
        lons.push(lon);
      }
    } else if (tag.name === 'way') {
      way = { id: Number(a.id), tags: {}, refs: [] };
    } else if (way && tag.name === 'nd') {
      way.refs.push(Number(a.ref));
    } else if (way && tag.name === 'tag' && a.k !== undefined && a.v !== undefined) {
      way.tags[a.k] = a.v;
    }
  };
  parser.onclosetag = (name) => {
    if (name === 'way' && way) {
      if (way.refs.length >= 2 && keepWay(way.tags)) ways.push(way);
      way = null;
    }
  };

  const raw = createReadStream(file);
  const stream = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  // pipe() does not forward errors: a missing file must still reject the load.
  if (stream !== raw) raw.on('error', (err) => stream.destroy(err));
  stream.setEncoding('utf8');
  for await (const chunk of stream) parser.write(chunk as string);
  parser.close();

  const nodeIds = ids.view();
  return { ways, nodePosition: nodeTable(nodeIds, lats.view(), lons.view()), nodeCount: nodeIds.length };
}
