/**
 * The faults a chaos run injects into the local stack, in turn: kill -9 of one process of a kind
 * (a messaging replica, a gateway, an auth service), of NATS and of Cassandra (each restarted after
 * a pause), and of every process of DC 3 for a while. Tern's own processes are restarted by the
 * stack's supervisor the way Kubernetes restarts a pod; `restore` then waits until every one of
 * them answers its health check again (and starts any that is still missing, as `npm run stack`
 * would). The infrastructure is started again by the same code `npm run stack` uses.
 */
import { cassandra, nats, type InfraComponent } from '../stack/infra';
import type { LocalSecrets, StackFiles, StackInfo } from '../stack/plan';
import { childPid, runningPid, workerPid } from '../stack/processes';
import { startServices } from '../stack/tern';

export interface FaultContext {
  info: StackInfo;
  secrets: LocalSecrets;
  files: StackFiles;
  /** Messaging replicas per DC the stack runs. */
  replicas: number;
}

export interface Fault {
  /** The fault's kind, as the table names it. */
  kind: string;
  /** What is killed. */
  target: string;
  /** The DC whose users' lanes may stall (a whole DC down); other lanes should keep flowing. */
  dcDown?: number;
  /** How long the target stays down before it is started again (Tern processes: the supervisor decides). */
  holdMs: number;
  inject(ctx: FaultContext): void;
  restore(ctx: FaultContext): Promise<void>;
}

/** kill -9 of a running process of the stack: the supervised service itself when there is one. */
function killHard(name: string): void {
  const pid = workerPid(name);
  if (pid === undefined) throw new Error(`${name} is not running: start the stack with \`npm run stack\``);
  process.kill(pid, 'SIGKILL');
}

/** kill -9 of a process and its supervisor: it stays down until started again. */
function killForGood(name: string): void {
  for (const pid of [runningPid(name), childPid(name)]) if (pid !== undefined) process.kill(pid, 'SIGKILL');
}

/** Every Tern process started again where missing, and all of them answering their health checks. */
const ternBack = (ctx: FaultContext) => startServices(ctx.secrets, ctx.files, ctx.replicas);

async function infraBack(component: InfraComponent, ctx: FaultContext): Promise<void> {
  await component.start(ctx.secrets);
  await component.ready();
}

/** A Tern process killed with -9 and restarted by the supervisor. */
function ternProcess(kind: string, name: string): Fault {
  return {
    kind,
    target: name,
    holdMs: 0,
    inject: () => killHard(name),
    restore: ternBack,
  };
}

function infra(kind: string, component: InfraComponent, holdMs: number): Fault {
  return {
    kind,
    target: component.name,
    holdMs,
    inject: () => killHard(component.name),
    restore: (ctx) => infraBack(component, ctx),
  };
}

/** The run's faults, in order; `dcDownMs` is how long DC 3 stays down. */
export function faultPlan(info: StackInfo, o: { infraDownMs: number; dcDownMs: number }): Fault[] {
  const dc = (id: number) => info.dcs.find((d) => d.id === id)!;
  const messaging = dc(1).messagingReplicas[0]!.name;
  const dc3 = info.processes.filter((name) => name.startsWith('dc3-'));
  return [
    ternProcess('a messaging replica', messaging),
    ternProcess('a gateway', 'dc2-gateway'),
    ternProcess("the recipients' auth", 'dc1-auth'),
    infra('NATS', nats, o.infraDownMs),
    infra('Cassandra', cassandra, o.infraDownMs),
    {
      kind: 'a whole DC',
      target: `DC 3 (${dc3.length} processes)`,
      dcDown: 3,
      holdMs: o.dcDownMs,
      inject: () => dc3.forEach(killForGood),
      restore: ternBack,
    },
  ];
}
