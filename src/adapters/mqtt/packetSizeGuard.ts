import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';

export interface PacketSizeLimits {
  /** Largest PUBLISH packet (topic, properties and payload) let through. */
  maxPublishBytes: number;
  /** Largest packet of any other type (CONNECT with a will, SUBSCRIBE lists...). */
  maxControlBytes: number;
}

const PUBLISH = 3;

/**
 * A connection that reads MQTT fixed headers as bytes arrive and closes the socket as soon as
 * a packet announces a length over the limit, before its body is read: the MQTT parser in
 * Aedes would otherwise buffer the whole packet first. Bytes are passed through unchanged.
 */
export class PacketSizeGuard extends Duplex {
  private state: 'type' | 'length' | 'body' = 'type';
  private packetType = 0;
  private remaining = 0;
  private multiplier = 1;
  private lengthBytes = 0;

  constructor(
    readonly socket: Socket,
    private readonly limits: PacketSizeLimits,
    private readonly onOversize: (guard: PacketSizeGuard, packetType: number, bytes: number) => void,
  ) {
    super({ allowHalfOpen: false });
    // Acknowledgements are tiny and latency-bound: do not hold them back for Nagle's algorithm.
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      if (!this.scan(chunk)) return;
      if (!this.push(chunk)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (error) => this.destroy(error));
    socket.on('close', () => this.destroy());
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.socket.write(chunk, encoding, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.destroy();
    callback(error);
  }

  /** False once a packet is over the limit: the chunk is not passed on and the socket is closed. */
  private scan(chunk: Buffer): boolean {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'body') {
        const skipped = Math.min(this.remaining, chunk.length - i);
        this.remaining -= skipped;
        i += skipped;
        if (this.remaining === 0) this.state = 'type';
        continue;
      }
      const byte = chunk[i++]!;
      if (this.state === 'type') {
        this.packetType = byte >> 4;
        this.state = 'length';
        this.remaining = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        continue;
      }
      this.remaining += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes++;
      if (byte & 0x80 && this.lengthBytes < 4) continue;
      const limit = this.packetType === PUBLISH ? this.limits.maxPublishBytes : this.limits.maxControlBytes;
      if (this.remaining > limit || byte & 0x80) {
        this.onOversize(this, this.packetType, this.remaining);
        this.socket.destroy();
        return false;
      }
      this.state = this.remaining > 0 ? 'body' : 'type';
    }
    return true;
  }
}
