/** Just enough of CloudFormation's template semantics to assert on what would be deployed. */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface Resource {
  Type: string;
  Condition?: string;
  DependsOn?: string | string[];
  Properties: Record<string, Json>;
}

export interface Template {
  Conditions?: Record<string, Json>;
  Resources: Record<string, Resource>;
  Outputs?: Record<string, { Value: Json }>;
}

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: Json;
  Action: string | string[];
  Resource: Json;
  Condition?: Json;
}

const isObject = (value: Json | undefined): value is { [key: string]: Json } =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const NO_VALUE = Symbol('AWS::NoValue');

/**
 * Evaluates a condition the way CloudFormation does, for the functions our conditions use
 * (Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition) over package-time literals.
 */
export const conditionHolds = (template: Template, name: string): boolean => {
  const evaluate = (node: Json): boolean => {
    if (!isObject(node)) throw new Error(`condition ${name}: not a condition function: ${node}`);
    const [fn, args] = Object.entries(node)[0] ?? [];
    if (fn === 'Condition' && typeof args === 'string') return conditionHolds(template, args);
    if (!Array.isArray(args)) throw new Error(`condition ${name}: ${fn} needs a list`);
    if (fn === 'Fn::Equals') return String(args[0]) === String(args[1]);
    if (fn === 'Fn::Not') return !evaluate(args[0] ?? null);
    if (fn === 'Fn::And') return args.every(evaluate);
    if (fn === 'Fn::Or') return args.some(evaluate);
    throw new Error(`condition ${name}: unsupported ${fn}`);
  };
  const condition = template.Conditions?.[name];
  if (condition === undefined) throw new Error(`no condition named ${name}`);
  return evaluate(condition);
};

/**
 * The template as CloudFormation would create it: resources whose condition is false dropped,
 * each Fn::If replaced by its chosen branch, and AWS::NoValue removed.
 */
export const effectiveTemplate = (template: Template): Template => {
  const resolve = (node: Json): Json | typeof NO_VALUE => {
    if (Array.isArray(node)) {
      return node.map(resolve).filter((item): item is Json => item !== NO_VALUE);
    }
    if (!isObject(node)) return node;
    const fnIf = node['Fn::If'];
    if (Array.isArray(fnIf) && typeof fnIf[0] === 'string') {
      return resolve((conditionHolds(template, fnIf[0]) ? fnIf[1] : fnIf[2]) ?? null);
    }
    if (node.Ref === 'AWS::NoValue') return NO_VALUE;
    const result: { [key: string]: Json } = {};
    for (const [key, value] of Object.entries(node)) {
      const resolved = resolve(value);
      if (resolved !== NO_VALUE) result[key] = resolved;
    }
    return result;
  };
  const resources: Record<string, Resource> = {};
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Condition === undefined || conditionHolds(template, resource.Condition)) {
      resources[id] = resolve(resource as unknown as Json) as unknown as Resource;
    }
  }
  return { ...template, Resources: resources };
};

/** A resource by logical id, failing the test with the id when it is missing. */
export const resourceOf = (template: Template, id: string): Resource => {
  const resource = template.Resources[id];
  if (resource === undefined) throw new Error(`template has no resource ${id}`);
  return resource;
};

/** The logical ids of the resources of a type. */
export const resourcesOfType = (template: Template, type: string): string[] =>
  Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === type)
    .map(([id]) => id);

/**
 * A resource property read as the shape the test expects (templates are untyped JSON; a wrong
 * shape shows up as a failed assertion).
 */
export const propertyOf = <T>(template: Template, id: string, key: string): T =>
  resourceOf(template, id).Properties[key] as unknown as T;

/** Statements of the Lambda execution role's inline policies. */
export const roleStatements = (template: Template): PolicyStatement[] =>
  propertyOf<Array<{ PolicyDocument: { Statement: PolicyStatement[] } }>>(
    template,
    'IamRoleLambdaExecution',
    'Policies',
  ).flatMap((policy) => policy.PolicyDocument.Statement);

/** Statements of a queue policy, by the queue policy's logical id. */
export const queuePolicyStatements = (template: Template, id: string): PolicyStatement[] =>
  propertyOf<{ Statement: PolicyStatement[] }>(template, id, 'PolicyDocument').Statement;

export const asList = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** A CloudFormation Fn::Sub placeholder, `${name}` (not a JavaScript one). */
export const cfn = (name: string): string => `\${${name}}`;

export const getAtt = (id: string, attribute: string): Json => ({ 'Fn::GetAtt': [id, attribute] });
export const ref = (id: string): Json => ({ Ref: id });
