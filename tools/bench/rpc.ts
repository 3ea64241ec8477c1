/**
 * Section 4: encrypted RPCs per second on one gateway process. Several connected GramJS clients
 * each keep a number of calls in flight for a fixed time; GramJS packs concurrent calls into
 * containers as it does in real use. Two calls the gateway answers itself, so the figure is the
 * gateway's MTProto path (decrypt, checks, dispatch, encode, encrypt), not a backend service:
 *  - `ping` (an MTProto service message answered with pong),
 *  - `help.getNearestDc` (an API method, through the method table).
 */
import bigInt from 'big-integer';
import { Api, type TelegramClient } from 'telegram';
import { gramClient, type Target } from './gramjs';
import { closedLoop, type LoadResult } from './handshake';

export interface RpcBench {
  clients: TelegramClient[];
  run(
    call: 'ping' | 'help.getNearestDc',
    ms: number,
    pids: Record<string, number | undefined>,
  ): Promise<LoadResult>;
  close(): Promise<void>;
}

/** Connects `clients` GramJS clients; each then keeps `inFlight` calls outstanding. */
export async function rpcBench(target: Target, clients: number, inFlight: number): Promise<RpcBench> {
  const connected = await Promise.all(Array.from({ length: clients }, () => gramClient(target)));
  let pingId = 0;
  return {
    clients: connected,
    async run(call, ms, pids) {
      const make = () =>
        call === 'ping' ? new Api.Ping({ pingId: bigInt(++pingId) }) : new Api.help.GetNearestDc();
      // clients × inFlight loops; each call goes to the next client in turn.
      let next = 0;
      const slots = connected.flatMap((c) => Array.from({ length: inFlight }, () => c));
      return closedLoop(() => slots[next++ % slots.length]!.invoke(make()), slots.length, ms, pids);
    },
    async close() {
      await Promise.all(connected.map((c) => c.destroy()));
    },
  };
}
