import { createHash } from 'node:crypto';
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import type { BusHeaders, BusMessage } from '../../ports/eventBus.js';

/** Headers the server and client use (`Nats-Msg-Id`, `Nats-Expected-*`…): never part of a record's own headers. */
const RESERVED_PREFIX = 'nats-';

/**
 * The JetStream de-duplication id of a message, derived from its content alone: when ingest
 * crashes after appending but before the device's PUBACK, the broker delivers the message
 * again, ingest appends it again (with a new `receivedAtMs`), and the server must recognise
 * it. The device and its points identify a points message; the device and the silence it
 * reports identify a silence message, the device and its time a tick. 22 base64url characters (132 bits) keep the server's
 * de-duplication table small.
 */
export function messageId(message: BusMessage): string {
  const identity = message.kind === 'points' ? ['points', message.deviceId, message.points]
    : message.kind === 'silence' ? ['silence', message.deviceId, message.lastMessageAtMs]
    : ['tick', message.deviceId, message.atMs];
  return createHash('sha256').update(JSON.stringify(identity)).digest('base64url').slice(0, 22);
}

/** A fresh header set per message: the client writes `Nats-Msg-Id` into the set it is given. */
export function encodeHeaders(headers: BusHeaders | undefined): MsgHdrs | undefined {
  if (!headers || Object.keys(headers).length === 0) return undefined;
  const encoded = natsHeaders();
  for (const [key, value] of Object.entries(headers)) encoded.set(key, value);
  return encoded;
}

export function decodeHeaders(headers: MsgHdrs | undefined): BusHeaders {
  const decoded: BusHeaders = {};
  if (!headers) return decoded;
  for (const key of headers.keys()) {
    if (!key.toLowerCase().startsWith(RESERVED_PREFIX)) decoded[key] = headers.get(key);
  }
  return decoded;
}

/** The message a record carries, or null when it is not one (anything may be published to a subject). */
export function decodeMessage(data: Uint8Array): BusMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  } catch {
    return null;
  }
  return isBusMessage(value) ? value : null;
}

function isBusMessage(value: unknown): value is BusMessage {
  if (typeof value !== 'object' || value === null) return false;
  const message = value as Record<string, unknown>;
  if (typeof message.deviceId !== 'string') return false;
  if (message.kind === 'silence') return typeof message.lastMessageAtMs === 'number';
  if (message.kind === 'tick') return typeof message.atMs === 'number';
  return message.kind === 'points'
    && typeof message.vehicleId === 'string'
    && typeof message.tenantId === 'string'
    && typeof message.receivedAtMs === 'number'
    && Array.isArray(message.points);
}
