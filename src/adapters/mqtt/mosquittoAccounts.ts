import { ID_PATTERN } from '../../domain/ids.js';
import { TOPICS } from '../../functions/ingest/wireFormat.js';
import type { DeviceCredentials, DeviceRecord, DeviceRegistry } from '../../ports/deviceRegistry.js';
import { DEFAULT_SHARE_GROUP, INGEST_FILTERS, sharedFilter } from './brokerTopics.js';
import { expectOk, type Acl, type DynsecClient, type DynsecCommand } from './dynsecClient.js';

export interface MosquittoAccountsOptions {
  dynsec: DynsecClient;
  /** tripline's own ingest account; a name outside the device id rule can never clash with a device. */
  ingest: { username: string; password: string };
  /** Never touched as devices (the dynsec admin, for one): re-passwording them would hand them over. */
  reservedUsernames?: string[];
  shareGroup?: string;
  /** Read after provisioning, to undo it when the device was revoked meanwhile. */
  registry: Pick<DeviceRegistry, 'get'>;
}

export interface MosquittoAccounts {
  /** Default access denied, the ingest role and account. Safe to run on every start. */
  bootstrap: () => Promise<void>;
  /** After the registry's `add` or `rotate`, while the secret exists in plaintext. */
  provision: (credentials: DeviceCredentials) => Promise<void>;
  /** For records from `registry.changedSince`: revoked devices lose their account (live sessions are kicked). Returns how many were removed. */
  reconcile: (records: DeviceRecord[]) => Promise<number>;
}

const INGEST_ROLE = 'tripline-ingest';
/** Per device: dynsec 2.0 does not substitute %c or %u in ACL topics (tested), so each device's topics are spelled out in a role of its own. */
const deviceRole = (deviceId: string): string => `tripline-device-${deviceId}`;
const BATCH = 100;

/**
 * Keeps Mosquitto's dynamic-security accounts in step with the device registry. The registry
 * keeps only slow hashes and dynsec 2.0 takes plaintext passwords, so a device's password
 * reaches the broker only at `add` and `rotate`. Username and client id are both the device id:
 * dynsec then admits a CONNECT only when all three match, so nobody signs in under another
 * device's client id (which would take over its session).
 */
export function createMosquittoAccounts(options: MosquittoAccountsOptions): MosquittoAccounts {
  const { dynsec } = options;
  const group = options.shareGroup ?? DEFAULT_SHARE_GROUP;
  const reserved = new Set([options.ingest.username, ...(options.reservedUsernames ?? [])]);

  const ingestAcls: Acl[] = [
    ...INGEST_FILTERS.map((filter): Acl => ({ acltype: 'subscribeLiteral', topic: sharedFilter(group, filter), allow: true })),
    ...INGEST_FILTERS.map((filter): Acl => ({ acltype: 'publishClientReceive', topic: filter, allow: true })),
    { acltype: 'publishClientSend', topic: TOPICS.alerts('+'), allow: true },
  ];

  const remove = (deviceId: string): DynsecCommand[] => [
    { command: 'deleteClient', username: deviceId },
    { command: 'deleteRole', rolename: deviceRole(deviceId) },
  ];

  return {
    bootstrap: async () => {
      expectOk(await dynsec.execute([
        {
          command: 'setDefaultACLAccess',
          // Unsubscribing only ever removes a client's own subscriptions.
          acls: [
            { acltype: 'publishClientSend', allow: false },
            { acltype: 'publishClientReceive', allow: false },
            { acltype: 'subscribe', allow: false },
            { acltype: 'unsubscribe', allow: true },
          ],
        },
        // Left as they are when they exist: changing a role or password kicks every ingest session.
        { command: 'createRole', rolename: INGEST_ROLE, acls: ingestAcls },
        { command: 'createClient', username: options.ingest.username, password: options.ingest.password, roles: [{ rolename: INGEST_ROLE }] },
      ]), ['Role already exists', 'Client already exists']);
    },

    provision: async ({ deviceId, username, password }) => {
      if (!ID_PATTERN.test(deviceId) || username !== deviceId || reserved.has(username)) {
        throw new Error(`device ${JSON.stringify(deviceId.slice(0, 64))} cannot have a broker account (its username must be its device id, not a reserved name)`);
      }
      const role = deviceRole(deviceId);
      const acls: Acl[] = [
        { acltype: 'publishClientSend', topic: TOPICS.telemetry(deviceId), allow: true },
        { acltype: 'publishClientSend', topic: TOPICS.ownTracks('+', deviceId), allow: true },
        // Literal: a subscription with wildcards is never granted.
        { acltype: 'subscribeLiteral', topic: TOPICS.alerts(deviceId), allow: true },
        { acltype: 'publishClientReceive', topic: TOPICS.alerts(deviceId), allow: true },
      ];
      const [created, client] = await dynsec.execute([
        { command: 'createRole', rolename: role, acls },
        { command: 'createClient', username, password, clientid: deviceId, roles: [{ rolename: role }] },
      ]);
      expectOk([created!], ['Role already exists']);
      if (client!.error === 'Client already exists') {
        // Ours only if its role was there before: tripline creates the role with the account.
        // A new role beside an existing account means the account is someone else's (an operator's,
        // a bridge's): never re-password it, or a tenant could take it over by naming a device after it.
        if (created!.error === undefined) {
          expectOk(await dynsec.execute([{ command: 'deleteRole', rolename: role }]), ['Role not found']);
          throw new BrokerAccountTakenError(deviceId);
        }
        // A rotation. The new password kicks the live session: dynsec keeps one password, so the
        // registry's overlap, during which the old secret still works, does not exist on the broker.
        expectOk(await dynsec.execute([{ command: 'setClientPassword', username, password }]));
      } else {
        expectOk([client!]);
      }
      // A revocation that raced this provisioning must win.
      const record = await options.registry.get(null, deviceId);
      if (!record || record.revokedAtMs !== null) {
        expectOk(await dynsec.execute(remove(deviceId)), ['Client not found', 'Role not found']);
        throw new Error(`device ${deviceId} was revoked while its broker account was being provisioned`);
      }
    },

    reconcile: async (records) => {
      // Identity changes need nothing here: ingest looks identities up per message.
      const revoked = records.filter((record) => record.revokedAtMs !== null && ID_PATTERN.test(record.deviceId) && !reserved.has(record.deviceId));
      let removed = 0;
      for (let i = 0; i < revoked.length; i += BATCH) {
        const batch = revoked.slice(i, i + BATCH);
        // Ours only if the account carries the device's role: tripline creates both together, so
        // an account of the same name without it (an operator's) is never deleted.
        const found = await dynsec.execute(batch.map((record) => ({ command: 'getClient', username: record.deviceId }) as DynsecCommand));
        expectOk(found, ['Client not found']);
        const ours = batch.filter((record, k) => found[k]!.error === undefined && hasRole(found[k]!.data, deviceRole(record.deviceId)));
        // The client before its role: Mosquitto 2.0 can crash deleting a client whose role was
        // deleted first (eclipse-mosquitto/mosquitto#2660; seen with 2.0.11, in about half the runs).
        const outcomes = await dynsec.execute(ours.map((record) => ({ command: 'deleteClient', username: record.deviceId }) as DynsecCommand));
        expectOk(outcomes, ['Client not found']);
        removed += outcomes.filter((outcome) => outcome.error === undefined).length;
        // Also the role a crash left behind after its client was deleted: no account has it.
        const orphaned = batch.filter((_, k) => found[k]!.error === 'Client not found');
        const roles = await dynsec.execute([...ours, ...orphaned].map((record) => ({ command: 'deleteRole', rolename: deviceRole(record.deviceId) }) as DynsecCommand));
        expectOk(roles, ['Role not found']);
      }
      return removed;
    },
  };
}

/**
 * Whether a getClient reply (`{ client: { roles: [{ rolename }] } }`) lists the role. A reply of
 * another shape throws: read as "not ours", a revoked device would keep its account silently.
 */
function hasRole(data: unknown, rolename: string): boolean {
  const roles = (data as { client?: { roles?: unknown } } | undefined)?.client?.roles;
  if (!Array.isArray(roles)) throw new Error('dynamic-security: a getClient reply without client.roles (an unsupported Mosquitto version?)');
  return roles.some((role: unknown) => (role as { rolename?: unknown } | null)?.rolename === rolename);
}

/** A broker account of that name exists and is not a tripline device's. */
export class BrokerAccountTakenError extends Error {
  constructor(readonly deviceId: string) {
    super(`the broker already has an account named ${deviceId} that is not a tripline device`);
    this.name = 'BrokerAccountTakenError';
  }
}
