import type { Client } from 'aedes';

export interface PacketSizeLimits {
  /** Largest PUBLISH packet (topic, properties and payload) let through. */
  maxPublishBytes: number;
  /** Largest packet of any other type (CONNECT with a will, SUBSCRIBE lists...). */
  maxControlBytes: number;
}

/** Counted where it is raised (onOversize), so the broker does not count it again as a protocol error. */
export class PacketTooLargeError extends Error {
  constructor(bytes: number, limit: number) {
    super(`packet of ${bytes} bytes is over the limit of ${limit}`);
    this.name = 'PacketTooLargeError';
  }
}

/** The parts of mqtt-packet's parser (v9, which Aedes 1.2 creates per client) that the limit hooks into. */
interface PacketParser {
  packet: { cmd?: string; length: number };
  _parseLength: () => boolean;
  _emitError: (error: Error) => void;
}

/**
 * Refuses a packet as soon as its fixed header announces a length over the limit, before its
 * body is buffered: the parser would otherwise wait for the whole packet. Hooked into the
 * client's own parser because wrapping the socket in another stream cost a fifth of ingest
 * throughput (bench/pipeline.ts). The error closes the connection, as any parse error does;
 * test/e2e/deviceLimits.test.ts pins this to the installed Aedes and mqtt-packet.
 */
export function limitPacketSize(client: Client, limits: PacketSizeLimits, onOversize: (bytes: number) => void): void {
  const parser = (client as unknown as { _parser?: PacketParser })._parser;
  if (!parser || typeof parser._parseLength !== 'function') throw new Error('unexpected Aedes client: no mqtt-packet parser to limit');
  const parseLength = parser._parseLength;
  parser._parseLength = function limitedParseLength(this: PacketParser): boolean {
    if (!parseLength.call(this)) return false;
    const limit = this.packet.cmd === 'publish' ? limits.maxPublishBytes : limits.maxControlBytes;
    if (this.packet.length <= limit) return true;
    onOversize(this.packet.length);
    this._emitError(new PacketTooLargeError(this.packet.length, limit));
    return false;
  };
}
