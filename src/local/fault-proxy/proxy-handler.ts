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
type Named = { id?: { S?: unknown } };

/**
 * The DynamoDB items a call names: `Key.id` or `Item.id`, or every key and item of a
 * `BatchGetItem` / `BatchWriteItem` / `TransactWriteItems`.
 */
const itemKeysOf = (body: Buffer): string[] => {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as {
      Key?: Named;
      Item?: Named;
      RequestItems?: Record<
        string,
        { Keys?: Named[] } | { PutRequest?: { Item?: Named }; DeleteRequest?: { Key?: Named } }[]
      >;
      TransactItems?: {
        ConditionCheck?: { Key?: Named };
        Put?: { Item?: Named };
        Delete?: { Key?: Named };
        Update?: { Key?: Named };
      }[];
    };
    const ids: unknown[] = [parsed.Key?.id?.S ?? parsed.Item?.id?.S];
    for (const table of Object.values(parsed.RequestItems ?? {})) {
      if (Array.isArray(table))
        for (const request of table)
          ids.push(request.PutRequest?.Item?.id?.S ?? request.DeleteRequest?.Key?.id?.S);
      else for (const key of table.Keys ?? []) ids.push(key.id?.S);
    }
    if (Array.isArray(parsed.TransactItems))
      for (const action of parsed.TransactItems) {
        const { ConditionCheck, Put, Delete, Update } = action ?? {};
        ids.push((Update?.Key ?? Put?.Item ?? Delete?.Key ?? ConditionCheck?.Key)?.id?.S);
      }
    return ids.filter((id): id is string => typeof id === 'string');
  } catch {
    return [];
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
    const keys = service === 'dynamodb' && call.body ? itemKeysOf(call.body) : [];
    // One journal entry per item named (a batch names several), so each item's faults are found.
    const journalEntry = (kind: InjectionKind) => {
      if (keys.length === 0) journal.record({ operation, kind });
      for (const key of keys) journal.record({ operation, kind, key });
    };
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
