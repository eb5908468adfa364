import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';

const COMMAND_TOPIC = '$CONTROL/dynamic-security/v1';
const RESPONSE_TOPIC = '$CONTROL/dynamic-security/v1/response';

export type AclType = 'publishClientSend' | 'publishClientReceive' | 'subscribeLiteral' | 'subscribePattern' | 'unsubscribeLiteral' | 'unsubscribePattern';
export interface Acl { acltype: AclType; topic: string; allow: boolean; priority?: number }
/** Default access is set per event, not per ACL type: `subscribe` covers both subscribe ACL types. */
export interface DefaultAcl { acltype: 'publishClientSend' | 'publishClientReceive' | 'subscribe' | 'unsubscribe'; allow: boolean }

/** The commands of the plugin's control API (Mosquitto 2.0) that tripline uses. */
export type DynsecCommand =
  | { command: 'setDefaultACLAccess'; acls: DefaultAcl[] }
  | { command: 'createRole'; rolename: string; acls: Acl[] }
  | { command: 'deleteRole'; rolename: string }
  | { command: 'createClient'; username: string; password: string; clientid?: string; roles?: Array<{ rolename: string; priority?: number }> }
  | { command: 'deleteClient'; username: string }
  | { command: 'getClient'; username: string }
  | { command: 'setClientPassword'; username: string; password: string };

/** `error` is the plugin's own text, e.g. "Client already exists" or "Client not found"; `data` is what a get command returns. */
export interface DynsecOutcome { command: DynsecCommand['command']; error?: string; data?: unknown }

export class DynsecTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`no reply from the dynamic-security plugin within ${timeoutMs} ms`);
    this.name = 'DynsecTimeoutError';
  }
}

export interface DynsecClientOptions {
  url: string;
  username: string;
  password: string;
  /** Defaults to a random id: the admin connection keeps no session. */
  clientId?: string;
  timeoutMs?: number;
}

export interface DynsecClient {
  /** Runs the commands in one message; each succeeds or fails on its own (the plugin has no transactions). */
  execute: (commands: DynsecCommand[]) => Promise<DynsecOutcome[]>;
  close: () => Promise<void>;
}

interface Pending { resolve: (outcome: DynsecOutcome) => void; reject: (error: Error) => void }

/**
 * A client of Mosquitto's dynamic-security control API over MQTT 5, signed in as its admin.
 * Every command carries its own correlationData, which the plugin echoes in its response,
 * so replies are matched even when several callers share the connection. A reply lost with a
 * dropped connection surfaces as a timeout; the commands tripline sends are safe to repeat.
 */
export async function connectDynsec(options: DynsecClientOptions): Promise<DynsecClient> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const client: MqttClient = await mqtt.connectAsync(options.url, {
    protocolVersion: 5,
    username: options.username,
    password: options.password,
    ...(options.clientId ? { clientId: options.clientId } : {}),
    clean: true,
    connectTimeout: timeoutMs,
    reconnectPeriod: 1000,
    // Commands go out at QoS 0 and are never queued while disconnected: one sent late, after its
    // caller timed out and moved on, could undo a later change (an older password over a newer one).
    queueQoSZero: false,
    // The subscription is remade on every connect: a clean session does not keep it.
    resubscribe: true,
  });
  const pending = new Map<string, Pending>();

  client.on('message', (topic, payload) => {
    if (topic !== RESPONSE_TOPIC) return;
    for (const response of parseResponses(payload)) {
      const waiting = pending.get(response.correlationData);
      if (!waiting) continue; // another admin's reply, or one that came after its timeout
      pending.delete(response.correlationData);
      const { command, error, data } = response;
      waiting.resolve({ command: command as DynsecCommand['command'], ...(error !== undefined ? { error } : {}), ...(data !== undefined ? { data } : {}) });
    }
  });
  // Without a listener an error event would crash the process; the timeout reports the failure.
  client.on('error', () => {});
  await client.subscribeAsync(RESPONSE_TOPIC, { qos: 1 });

  return {
    execute: async (commands) => {
      if (commands.length === 0) return [];
      if (!client.connected) throw new Error('dynamic-security: not connected to the broker');
      const ids = commands.map(() => randomUUID());
      const replies = ids.map((id) => new Promise<DynsecOutcome>((resolve, reject) => pending.set(id, { resolve, reject })));
      const timer = setTimeout(() => {
        for (const id of ids) pending.get(id)?.reject(new DynsecTimeoutError(timeoutMs));
        for (const id of ids) pending.delete(id);
      }, timeoutMs);
      try {
        const body = JSON.stringify({ commands: commands.map((command, i) => ({ ...command, correlationData: ids[i] })) });
        await client.publishAsync(COMMAND_TOPIC, body, { qos: 0 });
        return await Promise.all(replies);
      } catch (error) {
        for (const id of ids) pending.delete(id);
        throw error;
      } finally {
        clearTimeout(timer);
      }
    },
    close: async () => {
      for (const waiting of pending.values()) waiting.reject(new Error('dynamic-security client closed'));
      pending.clear();
      await client.endAsync(true);
    },
  };
}

/** Throws unless every outcome succeeded or failed with one of the `tolerated` errors (e.g. "Client not found" on a delete). */
export function expectOk(outcomes: DynsecOutcome[], tolerated: string[] = []): void {
  const failed = outcomes.filter((outcome) => outcome.error !== undefined && !tolerated.includes(outcome.error));
  if (failed.length > 0) throw new Error(`dynamic-security: ${failed.map((outcome) => `${outcome.command}: ${outcome.error}`).join('; ')}`);
}

function parseResponses(payload: Buffer): Array<{ command: string; error?: string; data?: unknown; correlationData: string }> {
  let body: unknown;
  try {
    body = JSON.parse(payload.toString('utf8'));
  } catch {
    return [];
  }
  const responses = (body as { responses?: unknown } | null)?.responses;
  if (!Array.isArray(responses)) return [];
  return responses.flatMap((item: unknown) => {
    const { command, error, data, correlationData } = (item ?? {}) as Record<string, unknown>;
    if (typeof command !== 'string' || typeof correlationData !== 'string') return [];
    return [{ command, correlationData, ...(typeof error === 'string' ? { error } : {}), ...(data !== undefined ? { data } : {}) }];
  });
}
