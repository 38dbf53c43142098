/**
 * WebSocket frames as the client sends and receives them, in every layer.
 *
 * @module
 */

/**
 * A WebSocket frame, as sent with `sendFrame` or `push` and received by `handleFrame`.
 *
 * - `text`: a UTF-8 text message.
 * - `binary`: a binary message; received data is always a `Uint8Array`.
 * - `ping` / `pong`: control frames with an optional payload of at most 125 bytes.
 *
 * @example Build frames
 * ```ts
 * import type { Frame } from "@parley/client";
 *
 * const text: Frame = { type: "text", data: "hello" };
 * const bin: Frame = { type: "binary", data: new Uint8Array([1, 2, 3]) };
 * const ping: Frame = { type: "ping" };
 * ```
 */
export type Frame =
  | TextFrame
  | BinaryFrame
  | PingFrame
  | PongFrame;

/**
 * A text message.
 *
 * @example
 * ```ts
 * import type { TextFrame } from "@parley/client";
 * const frame: TextFrame = { type: "text", data: "hello" };
 * ```
 */
export interface TextFrame {
  /** The frame type. */
  readonly type: "text";
  /** The message text. */
  readonly data: string;
}

/**
 * A binary message.
 *
 * @example
 * ```ts
 * import type { BinaryFrame } from "@parley/client";
 * const frame: BinaryFrame = { type: "binary", data: new Uint8Array([1, 2, 3]) };
 * ```
 */
export interface BinaryFrame {
  /** The frame type. */
  readonly type: "binary";
  /** The message bytes. Received frames always carry a `Uint8Array`. */
  readonly data: Uint8Array;
}

/**
 * A ping control frame. Payload at most 125 bytes.
 *
 * @example
 * ```ts
 * import type { PingFrame } from "@parley/client";
 * const frame: PingFrame = { type: "ping", data: new TextEncoder().encode("hb") };
 * ```
 */
export interface PingFrame {
  /** The frame type. */
  readonly type: "ping";
  /** The payload, at most 125 bytes; empty when omitted. */
  readonly data?: Uint8Array;
}

/**
 * A pong control frame. Payload at most 125 bytes.
 *
 * @example
 * ```ts
 * import type { PongFrame } from "@parley/client";
 * const frame: PongFrame = { type: "pong" };
 * ```
 */
export interface PongFrame {
  /** The frame type. */
  readonly type: "pong";
  /** The payload, at most 125 bytes; empty when omitted. */
  readonly data?: Uint8Array;
}

/**
 * A frame received from the server, as `handleFrame` sees it: a text or binary message, or a
 * pong. (Pings go to `handlePing`; the server's close frame ends the connection.)
 *
 * @example
 * ```ts
 * import type { ReceivedFrame } from "@parley/client";
 * function show(frame: ReceivedFrame): string {
 *   return frame.type === "text" ? frame.data : `${frame.type} of ${frame.data?.length ?? 0} bytes`;
 * }
 * ```
 */
export type ReceivedFrame = TextFrame | BinaryFrame | PongFrame;
