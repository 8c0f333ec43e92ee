import {
  actionValidations,
  type DynaliteStore,
  dynaliteDb,
  dynaliteValidations,
  type FieldSpec,
  type ValidatedRequest,
} from './dynalite-internals.js';

/** The four actions of a `TransactWriteItem`, in the API reference's order. */
export const TRANSACT_ACTIONS = ['ConditionCheck', 'Put', 'Delete', 'Update'] as const;
export type TransactAction = (typeof TRANSACT_ACTIONS)[number];

/** One action of a transaction, validated, with its expressions parsed by dynalite. */
export interface TransactActionRequest {
  action: TransactAction;
  request: ValidatedRequest;
  /** `ReturnValuesOnConditionCheckFailure: ALL_OLD`: a failed condition reports the item. */
  returnOldItem: boolean;
}

/** AWS's limit on actions in one call (raised from 25 to 100 in 2022). */
export const MAX_TRANSACT_ITEMS = 100;

const pick = (types: Record<string, FieldSpec>, names: readonly string[]) =>
  Object.fromEntries(names.map((name) => [name, types[name] as FieldSpec]));

const EXPRESSION_FIELDS = [
  'TableName',
  'ConditionExpression',
  'ExpressionAttributeNames',
  'ExpressionAttributeValues',
] as const;
const returnValuesOnConditionCheckFailure = { type: 'String', enum: ['ALL_OLD', 'NONE'] };
const required = { type: 'String', notNull: true };

// Each action's fields are dynalite's own for the matching single-item call, less those the
// transaction API does not have (ReturnValues, Expected, AttributeUpdates…): dynalite's checkTypes
// drops fields it is not given, so the legacy parameters cannot reach its actions.
const ACTION_TYPES: Record<TransactAction, Record<string, FieldSpec>> = {
  ConditionCheck: {
    ...pick(actionValidations.Delete.types, ['Key', ...EXPRESSION_FIELDS]),
    ConditionExpression: required,
    ReturnValuesOnConditionCheckFailure: returnValuesOnConditionCheckFailure,
  },
  Put: {
    ...pick(actionValidations.Put.types, ['Item', ...EXPRESSION_FIELDS]),
    ReturnValuesOnConditionCheckFailure: returnValuesOnConditionCheckFailure,
  },
  Delete: {
    ...pick(actionValidations.Delete.types, ['Key', ...EXPRESSION_FIELDS]),
    ReturnValuesOnConditionCheckFailure: returnValuesOnConditionCheckFailure,
  },
  Update: {
    ...pick(actionValidations.Update.types, ['Key', 'UpdateExpression', ...EXPRESSION_FIELDS]),
    UpdateExpression: required,
    ReturnValuesOnConditionCheckFailure: returnValuesOnConditionCheckFailure,
  },
};

// One nested table, so dynalite reports constraint failures with AWS's paths
// (`transactItems.1.member.update.updateExpression`), up to 10 at once.
const TRANSACT_WRITE_ITEMS_TYPES: Record<string, FieldSpec> = {
  ClientRequestToken: {
    type: 'String',
    lengthGreaterThanOrEqual: 1,
    lengthLessThanOrEqual: 36,
  },
  ReturnConsumedCapacity: actionValidations.Put.types.ReturnConsumedCapacity as FieldSpec,
  ReturnItemCollectionMetrics: actionValidations.Put.types.ReturnItemCollectionMetrics as FieldSpec,
  TransactItems: {
    type: 'List',
    notNull: true,
    lengthGreaterThanOrEqual: 1,
    lengthLessThanOrEqual: MAX_TRANSACT_ITEMS,
    children: {
      type: 'ValueStruct<TransactWriteItem>',
      children: Object.fromEntries(
        TRANSACT_ACTIONS.map((action) => [
          action,
          { type: `FieldStruct<${action}>`, children: ACTION_TYPES[action] },
        ]),
      ),
    },
  },
};

/** A condition check is a delete's key and condition, without the delete. */
const customValidationOf = (action: TransactAction) =>
  actionValidations[action === 'ConditionCheck' ? 'Delete' : action].custom;

/**
 * Validates a `TransactWriteItems` body as DynamoDB does, with dynalite's own checks for each
 * action (types, constraints, expression syntax, unused expression attributes), and answers its
 * actions with their expressions parsed (`_condition`, `_updates`).
 *
 * @throws {DynaliteError} SerializationException or ValidationException, as dynalite answers them.
 */
export const parseTransactWriteItems = (
  body: unknown,
  store: DynaliteStore,
): TransactActionRequest[] => {
  const request = dynaliteValidations.checkTypes(body, TRANSACT_WRITE_ITEMS_TYPES);
  dynaliteValidations.checkValidations(request, TRANSACT_WRITE_ITEMS_TYPES, undefined, store);
  return (request.TransactItems as Record<string, unknown>[]).map((item) => {
    const actions = TRANSACT_ACTIONS.filter((action) => item[action] != null);
    const [action] = actions;
    if (action === undefined || actions.length > 1)
      throw dynaliteDb.validationError(
        'TransactItems can only contain one of Check, Put, Update or Delete',
      );
    const fields = item[action] as ValidatedRequest;
    const message = customValidationOf(action)(fields, store);
    if (message) throw dynaliteDb.validationError(message);
    return {
      action,
      request: fields,
      returnOldItem: fields.ReturnValuesOnConditionCheckFailure === 'ALL_OLD',
    };
  });
};
