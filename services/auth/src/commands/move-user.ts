/**
 * `main.js move-user <user_id> <target_dc>`: the operator's command to move a user's account to
 * another DC (see api/move.ts for the steps): the account and the messaging box. It finds the
 * user's home DC in the directory, asks that DC's auth service to move the user, then asks every
 * other DC to drop a stale copy of account and box (which finishes a move whose cleanup was
 * interrupted, and removes what an abandoned move to another DC copied). Safe to run again after
 * any failure.
 *
 * Needs TERN_TOPOLOGY_FILE (the same topology the services use), and TERN_TLS_DIR with the
 * operator's certificate (spiffe://tern/operator) when the services run mutual TLS. Prints one
 * JSON line.
 */
import {
  createClient,
  loadTopology,
  transportSecurityFor,
  unary,
  useTransportSecurity,
} from '../../../shared/src';
import { AuthServiceClient } from '../../../shared/src/gen/tern/auth/v1/auth';
import { IMPORT_BOX_DEADLINE_MS } from '../api/move';

/** The home DC's MoveUser copies the box: it may take as long as that copy, and a little more. */
const MOVE_DEADLINE_MS = IMPORT_BOX_DEADLINE_MS + 60_000;
/** Other DCs only delete a stale copy. */
const CLEANUP_DEADLINE_MS = 180_000;

export async function runMoveUser(args: string[]): Promise<void> {
  const [userArg, dcArg] = args;
  if (!userArg || !/^\d+$/.test(userArg) || !dcArg || !/^\d+$/.test(dcArg))
    throw Object.assign(new Error('usage: move-user <user_id> <target_dc>'), { name: 'ConfigError' });
  const topologyFile = process.env.TERN_TOPOLOGY_FILE;
  if (!topologyFile)
    throw Object.assign(new Error('TERN_TOPOLOGY_FILE is required'), { name: 'ConfigError' });
  const topology = loadTopology(topologyFile);
  // The operator's certificate when the deployment runs mutual TLS (MoveUser allows only it).
  useTransportSecurity(
    transportSecurityFor(process.env.TERN_TLS_DIR?.trim() || undefined, { kind: 'operator' }),
  );
  const userId = BigInt(userArg);
  const to = Number(dcArg);
  const clients = new Map(
    topology.dcs.map((dc) => [dc.id, createClient(AuthServiceClient, dc.services.auth)]),
  );
  try {
    const any = clients.values().next().value!;
    const found = await unary(any.lookupUserDc.bind(any), { userIds: [userId] });
    const home = found.entries[0]?.homeDcId;
    if (home === undefined) throw new Error(`user ${userId} is not in the directory`);
    const steps: string[] = [];
    const mover = clients.get(home)!;
    steps.push(
      ...(
        await unary(mover.moveUser.bind(mover), { userId, targetDcId: to }, { deadlineMs: MOVE_DEADLINE_MS })
      ).steps,
    );
    for (const [dc, client] of clients) {
      if (dc === home || dc === to) continue;
      const res = await unary(
        client.moveUser.bind(client),
        { userId, targetDcId: to },
        { deadlineMs: CLEANUP_DEADLINE_MS },
      );
      steps.push(...res.steps.map((s) => `${s}@dc${dc}`));
    }
    process.stdout.write(`${JSON.stringify({ userId: userId.toString(), from: home, homeDc: to, steps })}\n`);
  } finally {
    for (const c of clients.values()) c.close();
  }
}
