import {
  type Agent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import { pipeline } from 'node:stream/promises';

/**
 * Headers that describe one connection, not the message (RFC 9110 §7.6.1), so they are not passed
 * on. `expect` too: node answers `100 Continue` to the client itself, and the upstream must not
 * wait for a second one.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
]);

const endToEnd = (headers: IncomingHttpHeaders): OutgoingHttpHeaders =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)));

/**
 * Sends the request on to the upstream and resolves with its response (headers received, body
 * still to be read). The body is streamed, or `body` is sent when it was already read. No emulator
 * checks SigV4, so the rewritten `host` does not break the signature that matters.
 *
 * @throws the socket error when the upstream cannot be reached or resets, or when the client
 *   goes away before its body was sent (the partial request is not forwarded).
 */
export const forwardRequest = (
  request: IncomingMessage,
  body: Buffer | undefined,
  upstream: URL,
  agent: Agent,
  signal: AbortSignal,
): Promise<IncomingMessage> =>
  new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        protocol: upstream.protocol,
        hostname: upstream.hostname,
        port: upstream.port,
        method: request.method,
        path: request.url,
        headers: { ...endToEnd(request.headers), host: upstream.host },
        agent,
        signal,
      },
      resolve,
    );
    // A later error (after resolve) is harmless to the promise; the listener keeps it handled.
    outgoing.on('error', reject);
    if (body !== undefined) outgoing.end(body);
    else pipeline(request, outgoing).catch(reject);
  });

/** Passes the upstream's answer to the client as it came (hop-by-hop headers aside). */
export const relayResponse = async (
  upstreamResponse: IncomingMessage,
  response: ServerResponse,
): Promise<void> => {
  response.writeHead(upstreamResponse.statusCode ?? 502, endToEnd(upstreamResponse.headers));
  // A client that went away mid-answer is its own problem, as with a real endpoint.
  await pipeline(upstreamResponse, response).catch(() => {});
};

/**
 * Reads the upstream's answer to its end and drops it: the call has then fully taken effect
 * upstream, which is the point of a lost answer.
 */
export const discardResponse = async (upstreamResponse: IncomingMessage): Promise<void> => {
  upstreamResponse.resume();
  await new Promise<void>((resolve) => {
    upstreamResponse.once('end', resolve);
    upstreamResponse.once('close', resolve);
    upstreamResponse.once('error', () => resolve());
  });
};
