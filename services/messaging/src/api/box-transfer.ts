/**
 * ImportBox, ExportBox, DeleteBox: the messaging part of the operator's user move (auth
 * MoveUser; docs/decisions/0007). The target DC pulls the box from the user's home page by page
 * (ExportBox) and writes it with storage/transfer.ts, so the copy is driven by the side that
 * writes: a failed or interrupted ImportBox is simply called again, and no stream has to be
 * resumed. The tables that make up a box are listed once, in TRANSFER_TABLES.
 *
 * These are service-to-service calls. Each checks the directory so that none can touch a live
 * box: ExportBox serves only users homed here, ImportBox only users homed in the DC it copies
 * from (before the switch), DeleteBox only users homed elsewhere (after it).
 */
import { errors, toLong, unary, type AsyncService } from '../../../shared/src';
import type {
  BoxTransferValue,
  ExportBoxResponse,
  MessagingServiceServer,
} from '../../../shared/src/gen/tern/messaging/v1/messaging';
import { types } from 'cassandra-driver';
import type { BoxTransfer, ExportCursor } from '../storage/transfer';
import type { BoxCore } from './core';

type Handlers = Pick<AsyncService<MessagingServiceServer>, 'importBox' | 'exportBox' | 'deleteBox'>;

/** Rows per ExportBox page: well inside the 4 MiB message limit with 4 KiB texts and entities. */
export const EXPORT_PAGE = 200;
export const EXPORT_PAGE_MAX = 1000;
/**
 * Copy passes before ImportBox gives up on a box that keeps changing. The copy is complete when a
 * whole pass saw the same pts as the pass before it: a message stored just before a pass writes
 * its box row, dialog and counters after its pts, and the second pass picks those up.
 */
export const MAX_PASSES = 6;

/** A CQL value as the driver returns it → the wire. */
export function encodeValue(v: unknown): BoxTransferValue {
  if (v === null || v === undefined) return {};
  if (v instanceof types.Long) return { value: { $case: 'int64', value: BigInt(v.toString()) } };
  if (typeof v === 'number') return { value: { $case: 'int32', value: v } };
  if (typeof v === 'string') return { value: { $case: 'text', value: v } };
  if (typeof v === 'boolean') return { value: { $case: 'flag', value: v } };
  if (Buffer.isBuffer(v)) return { value: { $case: 'blob', value: v } };
  if (v instanceof Date) return { value: { $case: 'timeMs', value: BigInt(v.getTime()) } };
  throw new TypeError(
    `a box column holds a value of an unsupported type (${Object.prototype.toString.call(v)})`,
  );
}

/** The wire → a value the driver writes into the column (prepared statements know the types). */
export function decodeValue(v: BoxTransferValue): unknown {
  const x = v.value;
  if (!x) return null;
  switch (x.$case) {
    case 'int64':
      return toLong(x.value);
    case 'timeMs':
      return new Date(Number(x.value));
    default:
      return x.value;
  }
}

export function encodeCursor(c: ExportCursor | undefined): Buffer {
  return c ? Buffer.from(JSON.stringify(c)) : Buffer.alloc(0);
}

export function decodeCursor(b: Buffer): ExportCursor | undefined {
  if (b.length === 0) return undefined;
  try {
    const c = JSON.parse(b.toString()) as ExportCursor;
    const ok =
      Number.isInteger(c.group) &&
      c.group >= 0 &&
      Number.isInteger(c.index) &&
      c.index >= 0 &&
      (c.pageState === undefined || /^[0-9a-f]*$/.test(c.pageState));
    if (ok) return c;
  } catch {
    // answered below
  }
  throw errors.badRequest('CURSOR_INVALID');
}

/**
 * `directoryHomes` asks the directory itself, past the cache: DeleteBox comes right after the old
 * home DC switched the user's home, before this process may have heard of it (the notice is
 * asynchronous), and a stale cache would refuse the cleanup as USER_HOMED_HERE.
 */
export function boxTransferHandlers(
  core: BoxCore,
  transfer: BoxTransfer,
  directoryHomes: (ids: bigint[]) => Promise<Map<bigint, number>>,
): Handlers {
  const homeOf = async (userId: bigint) => (await core.homes([userId])).get(userId);

  return {
    async exportBox(req) {
      if ((await homeOf(req.userId)) !== core.dcId) throw errors.badRequest('USER_NOT_HOMED_HERE');
      if (!transfer.tableNames().includes(req.table)) throw errors.badRequest('TABLE_INVALID');
      const limit = Math.min(Math.max(req.limit || EXPORT_PAGE, 1), EXPORT_PAGE_MAX);
      const page = await transfer.exportPage(req.userId, req.table, decodeCursor(req.cursor), limit);
      // Read after the rows: an importer that sees the same pts on every page of a pass knows no
      // update was appended while it read them.
      const pts = await core.pts(req.userId);
      return {
        columns: page.columns,
        rows: page.rows.map((r) => ({ values: r.values.map(encodeValue), ttl: r.ttl })),
        nextCursor: encodeCursor(page.next),
        done: page.next === undefined,
        pts,
      };
    },

    async importBox(req) {
      const { userId, sourceDcId } = req;
      if (sourceDcId === core.dcId || (await homeOf(userId)) !== sourceDcId)
        throw errors.badRequest('USER_MOVE_INVALID', 'the user is not homed in the source DC');
      const source = core.messagingOf.forDc(sourceDcId);
      let rows = 0n;
      let previous: number | undefined;
      for (let pass = 1; pass <= MAX_PASSES; pass++) {
        const seen = new Set<number>();
        for (const table of transfer.tableNames()) {
          let cursor: Buffer = Buffer.alloc(0);
          for (;;) {
            const page: ExportBoxResponse = await unary(
              source.exportBox.bind(source),
              { userId, table, cursor, limit: EXPORT_PAGE },
              { deadlineMs: 30_000 },
            );
            seen.add(page.pts);
            rows += BigInt(
              await transfer.importRows(
                userId,
                table,
                page.columns,
                page.rows.map((r) => ({ values: r.values.map(decodeValue), ttl: r.ttl })),
              ),
            );
            if (page.done) break;
            cursor = page.nextCursor;
          }
        }
        const [pts] = [...seen];
        if (seen.size === 1 && pts !== undefined && pts === previous) {
          // Written behind the box's writer: whatever it remembered of this box is stale.
          await core.writer.forget(userId);
          return { pts, rows, passes: pass };
        }
        previous = seen.size === 1 ? pts : undefined;
      }
      throw errors.badRequest('USER_MOVE_BUSY', `the box changed during each of ${MAX_PASSES} copies`);
    },

    async deleteBox(req) {
      const home = (await directoryHomes([req.userId])).get(req.userId);
      if (home === core.dcId) throw errors.badRequest('USER_HOMED_HERE');
      const removed = BigInt(await transfer.deleteBox(req.userId));
      await core.writer.forget(req.userId);
      return { removed };
    },
  };
}
