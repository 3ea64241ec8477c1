/**
 * The deployment topology: which DCs exist and where their endpoints are.
 *
 * It is data, not code (docs/configuration.md): every process of every DC reads the
 * same JSON file. The gateway advertises `gateway` addresses in help.getConfig; every
 * service dials `services` addresses for cross-DC gRPC calls.
 */
import { readFileSync } from 'node:fs';
import { parseHostPort, type HostPort } from './env';

/** The five kinds of Tern service processes. */
export const SERVICE_NAMES = ['gateway', 'auth', 'messaging', 'channel', 'media'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** Where clients reach one DC's MTProto gateway. */
export interface GatewayEndpoint {
  host: string;
  tcpPort: number;
  wsPort: number;
}

/** One data center of the deployment. */
export interface DcTopology {
  id: number;
  gateway: GatewayEndpoint;
  /** gRPC address of each service of this DC, as other processes dial it. */
  services: Record<ServiceName, HostPort>;
}

export interface Topology {
  testMode: boolean;
  dcs: DcTopology[];
}

/** Parses and checks a topology document; throws an Error listing every problem. */
export function parseTopology(doc: unknown): Topology {
  const problems: string[] = [];
  const obj = (doc ?? {}) as Record<string, unknown>;
  if (typeof obj !== 'object' || Array.isArray(obj)) throw new Error('topology must be a JSON object');
  const testMode = obj.testMode === undefined ? false : obj.testMode;
  if (typeof testMode !== 'boolean') problems.push('testMode must be a boolean');
  const rawDcs = obj.dcs;
  const dcs: DcTopology[] = [];
  if (!Array.isArray(rawDcs) || rawDcs.length === 0) {
    problems.push('dcs must be a non-empty array');
  } else {
    rawDcs.forEach((raw: unknown, i) => {
      const where = `dcs[${i}]`;
      const dc = (raw ?? {}) as Record<string, unknown>;
      const id = dc.id;
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 1 || id > 1000) {
        problems.push(`${where}.id must be an integer 1..1000`);
      }
      const gw = (dc.gateway ?? {}) as Record<string, unknown>;
      const host = gw.host;
      if (typeof host !== 'string' || host === '')
        problems.push(`${where}.gateway.host must be a non-empty string`);
      for (const key of ['tcpPort', 'wsPort'] as const) {
        const p = gw[key];
        if (typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > 65535) {
          problems.push(`${where}.gateway.${key} must be a port number`);
        }
      }
      const svc = (dc.services ?? {}) as Record<string, unknown>;
      const services = {} as Record<ServiceName, HostPort>;
      for (const name of SERVICE_NAMES) {
        const addr = svc[name];
        if (typeof addr !== 'string') {
          problems.push(`${where}.services.${name} must be "host:port"`);
          continue;
        }
        try {
          services[name] = parseHostPort(addr);
        } catch (err) {
          problems.push(`${where}.services.${name}: ${(err as Error).message}`);
        }
      }
      dcs.push({
        id: id as number,
        gateway: { host: host as string, tcpPort: gw.tcpPort as number, wsPort: gw.wsPort as number },
        services,
      });
    });
    const ids = dcs.map((d) => d.id);
    const dup = ids.find((id, i) => ids.indexOf(id) !== i);
    if (dup !== undefined) problems.push(`dc id ${dup} appears twice`);
  }
  if (problems.length > 0) throw new Error(problems.join('; '));
  return { testMode: testMode as boolean, dcs };
}

/** Reads and parses the topology file at `path`. */
export function loadTopology(path: string): Topology {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read topology file ${path}: ${(err as Error).message}`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`topology file ${path} is not valid JSON`, { cause: err });
  }
  return parseTopology(doc);
}

/** The entry of DC `id`, or throws. */
export function dcOf(topology: Topology, id: number): DcTopology {
  const dc = topology.dcs.find((d) => d.id === id);
  if (!dc)
    throw new Error(`DC ${id} is not in the topology (have ${topology.dcs.map((d) => d.id).join(', ')})`);
  return dc;
}
