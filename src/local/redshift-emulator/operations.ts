import type { CallerIdentity } from '../caller-identity.js';
import { isNamespaceArn, namespaceAccount, parseDataShareArn } from './arn.js';
import { readConsumerTarget } from './consumer-target.js';
import type { DataShareStore } from './datashare-store.js';
import { type CrossAccountAnswer, crossAccountError, invalidNamespace } from './errors.js';
import { paginate } from './pagination.js';
import type { QueryParams } from './query-params.js';
import type { AssociationStatus, DataShareState, RedshiftOperation } from './types.js';
import { dataShareXml, element, memberList } from './xml.js';

/** What an operation produced: the inner XML of `<XResult>`, and whether state changed. */
export interface OperationResult {
  resultXml: string;
  applied: boolean;
}

/**
 * What a caller may see of the datashares: `all` (every association, the single-account
 * emulator's historic view) or `caller` (a producer sees its datashares whole; a consumer sees
 * only the associations its own account owns, and no datashare it has none of).
 */
export const VISIBILITIES = ['all', 'caller'] as const;
export type Visibility = (typeof VISIBILITIES)[number];

/** Who calls, and the emulator's account rules. */
export interface OperationContext {
  caller: CallerIdentity;
  visibility: Visibility;
  crossAccountAnswer: CrossAccountAnswer;
}

type Operation = (
  params: QueryParams,
  store: DataShareStore,
  context: OperationContext,
) => OperationResult;

const isProducer = (share: DataShareState, accountId: string): boolean =>
  parseDataShareArn(share.dataShareArn)?.producerAccount === accountId;

/** The datashare as `accountId` may see it, or undefined when it may not see it at all. */
const viewOf = (
  share: DataShareState,
  store: DataShareStore,
  { caller, visibility }: OperationContext,
): DataShareState | undefined => {
  if (visibility === 'all' || isProducer(share, caller.accountId)) return share;
  const associations = share.associations.filter((a) => store.ownedBy(a, caller.accountId));
  return associations.length === 0 ? undefined : { ...share, associations };
};

/** A datashare returned by Disassociate/Associate: the caller's view, even if now empty. */
const answeredShare = (
  share: DataShareState,
  store: DataShareStore,
  context: OperationContext,
): DataShareState => viewOf(share, store, context) ?? { ...share, associations: [] };

const visibleShares = (store: DataShareStore, context: OperationContext): DataShareState[] =>
  store.list().flatMap((share) => viewOf(share, store, context) ?? []);

const CONSUMER_STATUSES = ['ACTIVE', 'AVAILABLE'] as const satisfies AssociationStatus[];
const PRODUCER_STATUSES = [
  'ACTIVE',
  'AUTHORIZED',
  'PENDING_AUTHORIZATION',
  'DEAUTHORIZED',
  'REJECTED',
] as const satisfies AssociationStatus[];

// The API documents no bounds for these describes' MaxRecords; other Redshift describes take
// 20..100. We accept 1..100 so tests can page through a handful of datashares.
const MAX_RECORDS_LIMIT = 100;

const describeResult = (shares: DataShareState[], params: QueryParams): OperationResult => {
  const maxRecords = params.optionalInteger('MaxRecords', 1, MAX_RECORDS_LIMIT);
  const { page, marker } = paginate(
    shares,
    (s) => s.dataShareArn,
    maxRecords,
    params.optionalString('Marker'),
  );
  return {
    resultXml: memberList('DataShares', page.map(dataShareXml)) + element('Marker', marker),
    applied: false,
  };
};

/**
 * A namespace is disassociated (or associated) by the account that owns it: the call is signed
 * by the consumer account. Another account's namespace is refused as `crossAccountAnswer` says.
 */
const assertOwnNamespace = (
  dataShareArn: string,
  consumerArn: string,
  verb: 'disassociate' | 'associate',
  { caller, crossAccountAnswer }: OperationContext,
): void => {
  if (namespaceAccount(consumerArn) === caller.accountId) return;
  throw crossAccountError(crossAccountAnswer, {
    verb,
    dataShareArn,
    consumerArn,
    callerArn: caller.arn,
  });
};

const disassociate: Operation = (params, store, context) => {
  const arn = params.requiredString('DataShareArn');
  const target = readConsumerTarget(params, 'DisassociateEntireAccount');
  if (target.kind === 'namespace')
    assertOwnNamespace(arn, target.consumerArn, 'disassociate', context);
  const share = store.disassociate(arn, target, context.caller.accountId);
  return { resultXml: dataShareXml(answeredShare(share, store, context)), applied: true };
};

const associate: Operation = (params, store, context) => {
  const arn = params.requiredString('DataShareArn');
  const target = readConsumerTarget(params, 'AssociateEntireAccount');
  const allowWrites = params.optionalBoolean('AllowWrites');
  if (target.kind === 'namespace')
    assertOwnNamespace(arn, target.consumerArn, 'associate', context);
  const share = store.associate(arn, target, allowWrites, context.caller.accountId);
  return { resultXml: dataShareXml(answeredShare(share, store, context)), applied: true };
};

const describe: Operation = (params, store, context) => {
  const arn = params.optionalString('DataShareArn');
  // An unknown ARN yields an empty list rather than a fault: the worker's "is it gone?" check
  // must treat both the same, and an empty list is the safer of the two to emulate.
  const shares = visibleShares(store, context).filter(
    (s) => arn === undefined || s.dataShareArn === arn,
  );
  return describeResult(shares, params);
};

const describeForConsumer: Operation = (params, store, { caller, visibility }) => {
  const consumerArn = params.optionalString('ConsumerArn');
  if (consumerArn !== undefined && !isNamespaceArn(consumerArn))
    throw invalidNamespace(consumerArn);
  const status = params.optionalEnum('Status', CONSUMER_STATUSES);
  // The consumer sees only its own associations of each datashare (and, when asking about a
  // namespace, only if that namespace is its own, unless every view is open).
  const ownNamespace =
    consumerArn === undefined ||
    visibility === 'all' ||
    namespaceAccount(consumerArn) === caller.accountId;
  const shares = store
    .list()
    .map((share) => ({
      ...share,
      associations: share.associations.filter(
        (a) =>
          ownNamespace &&
          (consumerArn === undefined
            ? store.ownedBy(a, caller.accountId)
            : store.coversNamespace(a, consumerArn)) &&
          (status === undefined || a.status === status),
      ),
    }))
    .filter((share) => share.associations.length > 0);
  return describeResult(shares, params);
};

const describeForProducer: Operation = (params, store, context) => {
  const producerArn = params.optionalString('ProducerArn');
  if (producerArn !== undefined && !isNamespaceArn(producerArn))
    throw invalidNamespace(producerArn);
  const status = params.optionalEnum('Status', PRODUCER_STATUSES);
  // A producer sees its own datashares; under `all`, every datashare is anyone's to see.
  const shares = store
    .list()
    .filter((s) => context.visibility === 'all' || isProducer(s, context.caller.accountId))
    .filter((s) => producerArn === undefined || s.producerArn === producerArn)
    .filter((s) => status === undefined || s.associations.some((a) => a.status === status));
  return describeResult(shares, params);
};

/** The emulated operations, by `Action`. */
export const OPERATIONS: Record<RedshiftOperation, Operation> = {
  DisassociateDataShareConsumer: disassociate,
  AssociateDataShareConsumer: associate,
  DescribeDataShares: describe,
  DescribeDataSharesForConsumer: describeForConsumer,
  DescribeDataSharesForProducer: describeForProducer,
};
