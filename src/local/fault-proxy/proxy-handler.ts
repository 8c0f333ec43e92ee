import { randomUUID } from 'node:crypto';
import type { Agent, IncomingMessage, ServerResponse } from 'node:http';
import { pause, readBody, resetConnection, sendText } from '../http.js';
import type { InjectedProxyFault, ProxyFaultPlan } from './faults.js';
import { discardResponse, forwardRequest, relayResponse } from './forward.js';
import { type IdentifiedRequest, identifyOperation } from './operation.js';
import { type ProxiedService, renderError, serviceError } from './service-errors.js';
import type { InjectionJournal, InjectionKind, ProxyCounters } from './stats.js';

export interface ProxyHandlerDependencies {
  service: ProxiedService;
  upstream: URL;
  /** Keep-alive connections to the upstream; destroyed when the proxy stops. */
  agent: Agent;
  faults: ProxyFaultPlan;
  counters: ProxyCounters;
  journal: InjectionJournal;
}

/** The item a DynamoDB request names (`Key.id.S` or `Item.id.S`), if any. */
const itemKeyOf = (body: Buffer): string | undefined => {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as {
      Key?: { id?: { S?: unknown } };
      Item?: { id?: { S?: unknown } };
    };
    const id = parsed.Key?.id?.S ?? parsed.Item?.id?.S;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
};

/**
 * Serves one proxied call: finds its operation, lets the fault plan decide, then either fails it
 * without forwarding (`when: 'before'`), forwards it and relays the answer, or forwards it, lets it
 * take effect and replaces the answer with the fault (`when: 'after'`: the lost answer).
 */
export const createProxyHandler =
  ({ service, upstream, agent, faults, counters, journal }: ProxyHandlerDependencies) =>
  async (request: IncomingMessage, response: ServerResponse, signal: AbortSignal) => {
    const call = await identifyOperation(request);
    const { operation } = call;
    // A DynamoDB body is small: read it to name the item of a faulted call, then forward it.
    if (service === 'dynamodb' && call.body === undefined) call.body = await readBody(request);
    const key = service === 'dynamodb' && call.body ? itemKeyOf(call.body) : undefined;
    const journalEntry = (kind: InjectionKind) =>
      journal.record({ operation, kind, ...(key === undefined ? {} : { key }) });
    counters.count(operation, 'calls');
    const fault = faults.decide(operation);
    const latencyMs = faults.latencyFor(operation);
    const delay = async () => {
      if (latencyMs <= 0) return;
      counters.count(operation, 'delayed');
      await pause(latencyMs, signal);
    };

    if (fault?.when === 'before') {
      counters.injected(operation, fault.kind);
      // Read what the client sends, as a server does before answering; nothing goes upstream.
      if (call.body === undefined) request.resume();
      journalEntry(fault.kind);
      return injectFault(fault, { call, service, request, response, signal, delay });
    }

    let upstreamResponse: IncomingMessage;
    try {
      upstreamResponse = await forwardRequest(request, call.body, upstream, agent, signal);
    } catch (error) {
      if (signal.aborted || request.destroyed) return;
      counters.count(operation, 'upstreamFailures');
      const reason = (error as NodeJS.ErrnoException).code ?? String(error);
      sendText(response, 502, 'text/plain', `fault proxy: upstream ${upstream.host}: ${reason}`);
      return;
    }
    counters.count(operation, 'forwarded');

    if (fault) {
      await discardResponse(upstreamResponse);
      counters.injected(operation, 'lostAnswer');
      journalEntry('lostAnswer');
      return injectFault(fault, { call, service, request, response, signal, delay });
    }
    await delay();
    if (signal.aborted) {
      upstreamResponse.destroy();
      return;
    }
    await relayResponse(upstreamResponse, response);
  };

/** One call being served, as the fault answer needs it. */
interface ProxiedCall {
  call: IdentifiedRequest;
  service: ProxiedService;
  request: IncomingMessage;
  response: ServerResponse;
  signal: AbortSignal;
  /** Waits the configured latency (and counts it). */
  delay: () => Promise<void>;
}

/** Answers the fault: the service's error after the latency, a reset, or nothing (a hang). */
const injectFault = async (
  fault: InjectedProxyFault,
  { call, service, request, response, signal, delay }: ProxiedCall,
): Promise<void> => {
  // A hung request keeps its socket until the client gives up or stop() destroys it.
  if (fault.kind === 'hang' || signal.aborted) return;
  if (fault.kind === 'reset') return resetConnection(request);
  await delay();
  if (signal.aborted || response.destroyed) return;
  const requestId = randomUUID();
  const answer = renderError(
    service,
    call.protocol,
    serviceError(service, fault.kind, {
      ...(fault.code === undefined ? {} : { code: fault.code }),
      ...(fault.message === undefined ? {} : { message: fault.message }),
      ...(fault.httpStatus === undefined ? {} : { httpStatus: fault.httpStatus }),
    }),
    requestId,
  );
  response.writeHead(answer.status, {
    ...answer.headers,
    'content-length': Buffer.byteLength(answer.body),
    'x-amzn-requestid': requestId,
  });
  response.end(answer.body);
};
