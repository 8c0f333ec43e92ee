import { isNamespaceArn } from './arn.js';
import { readConsumerTarget } from './consumer-target.js';
import type { DataShareStore } from './datashare-store.js';
import { invalidNamespace } from './errors.js';
import { paginate } from './pagination.js';
import type { QueryParams } from './query-params.js';
import type { AssociationStatus, DataShareState, RedshiftOperation } from './types.js';
import { dataShareXml, element, memberList } from './xml.js';

/** What an operation produced: the inner XML of `<XResult>`, and whether state changed. */
export interface OperationResult {
  resultXml: string;
  applied: boolean;
}

type Operation = (params: QueryParams, store: DataShareStore) => OperationResult;

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

const disassociate: Operation = (params, store) => {
  const arn = params.requiredString('DataShareArn');
  const target = readConsumerTarget(params, 'DisassociateEntireAccount');
  return { resultXml: dataShareXml(store.disassociate(arn, target)), applied: true };
};

const associate: Operation = (params, store) => {
  const arn = params.requiredString('DataShareArn');
  const target = readConsumerTarget(params, 'AssociateEntireAccount');
  const allowWrites = params.optionalBoolean('AllowWrites');
  return { resultXml: dataShareXml(store.associate(arn, target, allowWrites)), applied: true };
};

const describe: Operation = (params, store) => {
  const arn = params.optionalString('DataShareArn');
  // An unknown ARN yields an empty list rather than a fault: the worker's "is it gone?" check
  // must treat both the same, and an empty list is the safer of the two to emulate.
  const shares = store.list().filter((s) => arn === undefined || s.dataShareArn === arn);
  return describeResult(shares, params);
};

const describeForConsumer: Operation = (params, store) => {
  const consumerArn = params.optionalString('ConsumerArn');
  if (consumerArn !== undefined && !isNamespaceArn(consumerArn))
    throw invalidNamespace(consumerArn);
  const status = params.optionalEnum('Status', CONSUMER_STATUSES);
  // The consumer sees only its own associations of each datashare.
  const shares = store
    .list()
    .map((share) => ({
      ...share,
      associations: share.associations.filter(
        (a) =>
          (consumerArn === undefined
            ? store.ownedByConsumer(a)
            : store.coversNamespace(a, consumerArn)) &&
          (status === undefined || a.status === status),
      ),
    }))
    .filter((share) => share.associations.length > 0);
  return describeResult(shares, params);
};

const describeForProducer: Operation = (params, store) => {
  const producerArn = params.optionalString('ProducerArn');
  if (producerArn !== undefined && !isNamespaceArn(producerArn))
    throw invalidNamespace(producerArn);
  const status = params.optionalEnum('Status', PRODUCER_STATUSES);
  const shares = store
    .list()
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
