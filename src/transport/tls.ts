/**
 * TLS settings for `wss:` connections over the socket transport.
 *
 * @module
 */

/**
 * TLS settings, given as `transportOptions.tls`. Any of them makes `transport: "auto"` choose
 * the socket transport, as the web-standard `WebSocket` cannot take them.
 *
 * @example Trust a private certificate authority and present a client certificate
 * ```ts
 * import type { TlsOptions } from "@parley/client";
 * const tls: TlsOptions = {
 *   ca: "-----BEGIN CERTIFICATE-----\n...",
 *   cert: "-----BEGIN CERTIFICATE-----\n...",
 *   key: "-----BEGIN PRIVATE KEY-----\n...",
 * };
 * ```
 */
export interface TlsOptions {
  /** Extra trusted certificate authorities (PEM), in addition to the runtime's roots. */
  readonly ca?: string | readonly string[];
  /** A client certificate chain (PEM) for mutual TLS; needs `key`. */
  readonly cert?: string;
  /** The client certificate's private key (PEM); needs `cert`. */
  readonly key?: string;
  /** The name sent as SNI and checked against the certificate. Default: the URL's host. */
  readonly serverName?: string;
  /** The lowest TLS version accepted. Default `"TLSv1.2"`. */
  readonly minVersion?: "TLSv1.2" | "TLSv1.3";
  /**
   * Turns off certificate verification entirely: any certificate, any host name. Anyone on
   * the path can then read and change the traffic. For tests against throwaway certificates
   * only; the client logs a warning when it starts with it on.
   */
  readonly dangerouslyAcceptInvalidCertificates?: boolean;
}

/**
 * Options for the socket transport.
 *
 * @example
 * ```ts
 * import type { TransportOptions } from "@parley/client";
 * const transportOptions: TransportOptions = { tls: { serverName: "api.internal" } };
 * ```
 */
export interface TransportOptions {
  /** TLS settings for `wss:` URLs. */
  readonly tls?: TlsOptions;
}

/** TLS settings after validation. */
export interface ResolvedTls {
  readonly ca: readonly string[];
  readonly cert: string | undefined;
  readonly key: string | undefined;
  readonly serverName: string | undefined;
  readonly minVersion: "TLSv1.2" | "TLSv1.3";
  readonly insecure: boolean;
}
