/**
 * One client connection at the transport level: bytes in → detection → (de-obfuscation) →
 * framing → packets for the MTProto layer; packets out → framing → (obfuscation) → bytes.
 * The byte stream is a TCP socket or the binary frames of a WebSocket; this class doesn't care.
 */
import { detectTransport, type Obfuscation } from './detect';
import { createFraming, MAX_FRAME, TransportError, type Framing, type FramingKind } from './framing';

/** What a transport connection needs of the underlying socket. */
export interface ByteStream {
  write(data: Buffer): void;
  /**
   * Writes several buffers as one contiguous piece of the stream without joining them (a TCP
   * socket's writev). Streams without it get them joined into one write: a WebSocket message per
   * frame keeps what clients see the same as before.
   */
  writev?(chunks: Buffer[]): void;
  /** Bytes queued but not yet sent (for backpressure limits). */
  readonly pending: number;
  close(): void;
  readonly remoteAddress: string;
  readonly remotePort: number;
}

/** The MTProto layer above: gets each packet, and is told when the connection is gone. */
export interface PacketHandler {
  onPacket(conn: TransportConnection, payload: Buffer, quickAck: boolean): void;
  onClose(conn: TransportConnection): void;
}

/** Queued outgoing bytes beyond which a connection is closed: a client that does not read must not grow our memory. */
const MAX_PENDING_OUT = 16 * 1024 * 1024;

let nextConnectionId = 1;

export class TransportConnection {
  readonly id = nextConnectionId++;
  private head: Buffer = Buffer.alloc(0);
  private framing?: Framing;
  private obfuscation?: Obfuscation;
  private closed = false;
  /** A transport error to answer with as soon as the framing is known (see refuse). */
  private refusal?: number;

  constructor(
    private readonly stream: ByteStream,
    private readonly handler: PacketHandler,
    /** WebSocket connections are always obfuscated; TCP may also be plain. */
    private readonly allowPlain: boolean,
  ) {}

  get remoteAddress(): string {
    return this.stream.remoteAddress;
  }
  get kind(): FramingKind | undefined {
    return this.framing?.kind;
  }
  get obfuscated(): boolean {
    return this.obfuscation !== undefined;
  }

  /** Feeds received bytes; protocol violations close the connection. */
  receive(chunk: Buffer): void {
    if (this.closed) return;
    try {
      let data = chunk;
      if (!this.framing) {
        this.head = Buffer.concat([this.head, data]);
        if (this.head.length > 64 + MAX_FRAME) throw new TransportError('no transport recognised');
        const detected = detectTransport(this.head, { allowPlain: this.allowPlain });
        if (!detected) return;
        this.framing = createFraming(detected.kind);
        this.obfuscation = detected.obfuscation;
        const rest = this.head.subarray(detected.headerLength);
        this.head = Buffer.alloc(0);
        if (this.refusal !== undefined) return this.fail(this.refusal);
        data = this.obfuscation ? this.obfuscation.decrypt(rest) : rest;
      } else if (this.obfuscation) {
        data = this.obfuscation.decrypt(data);
      }
      for (const frame of this.framing.push(data)) {
        if (this.closed) return;
        this.handler.onPacket(this, frame.payload, frame.quickAck);
      }
    } catch (err) {
      if (err instanceof TransportError) this.close();
      else throw err;
    }
  }

  send(payload: Buffer): void {
    if (this.closed || !this.framing) return;
    this.write(...(this.stream.writev ? this.framing.encodeChunks(payload) : [this.framing.encode(payload)]));
  }

  sendQuickAck(token: number): void {
    if (this.closed || !this.framing) return;
    const bytes = this.framing.encodeQuickAck(token);
    if (bytes.length > 0) this.write(bytes);
  }

  /** Sends a transport error (-404, -429, …) and closes: the spec's way to refuse a packet. */
  fail(code: number): void {
    if (this.closed) return;
    if (this.framing) this.write(this.framing.encodeError(code));
    this.close();
  }

  /**
   * Refuses the connection with a transport error (e.g. -429 over a per-address limit): the error
   * can only be framed once the client's transport header has been read, so it is sent then (or at
   * once, when it already has been) and the connection closed. No packet reaches the handler.
   */
  refuse(code: number): void {
    if (this.framing) this.fail(code);
    else this.refusal = code;
  }

  /** Writes `pieces` in order: one write, or one writev where the stream has it (send). */
  private write(...pieces: Buffer[]): void {
    if (this.stream.pending > MAX_PENDING_OUT) {
      this.close();
      return;
    }
    // Obfuscation is AES-CTR, a stream cipher: pieces encrypted one after the other give the same
    // bytes as their concatenation encrypted at once.
    const out = this.obfuscation ? pieces.map((p) => this.obfuscation!.encrypt(p)) : pieces;
    if (out.length === 1) this.stream.write(out[0]!);
    else this.stream.writev!(out);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stream.close();
    this.handler.onClose(this);
  }

  /** The socket went away (by either side). */
  closedByPeer(): void {
    if (this.closed) return;
    this.closed = true;
    this.handler.onClose(this);
  }
}
