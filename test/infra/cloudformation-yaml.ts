import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Json, Template } from './cloudformation.js';

/** The parts of js-yaml 4 used here (it ships no types, and @types/js-yaml is not installed). */
interface JsYaml {
  Type: new (tag: string, options: { kind: string; construct: (data: Json) => Json }) => unknown;
  CORE_SCHEMA: { extend: (types: unknown[]) => unknown };
  load: (text: string, options: { schema: unknown; filename: string }) => unknown;
}

// js-yaml as osls (a devDependency) declares and uses it: no dependency of our own for a test.
const yaml = createRequire(createRequire(import.meta.url).resolve('osls/package.json'))(
  'js-yaml',
) as JsYaml;

const FUNCTIONS = ['And', 'Base64', 'Equals', 'GetAZs', 'If', 'Join', 'Not', 'Or', 'Select'];
const MORE_FUNCTIONS = ['Split', 'Sub', 'FindInMap', 'ImportValue', 'Cidr'];

/**
 * CloudFormation's short forms (`!Ref`, `!Sub`, `!If`, `!GetAtt a.b`, ...) as their long forms.
 * CORE_SCHEMA, not the default one: an unquoted 2012-10-17 stays a string, as CloudFormation reads it.
 */
const SCHEMA = yaml.CORE_SCHEMA.extend(
  [
    ...[...FUNCTIONS, ...MORE_FUNCTIONS].map((name) => [`!${name}`, `Fn::${name}`]),
    ['!Ref', 'Ref'],
    ['!Condition', 'Condition'],
    ['!GetAtt', 'Fn::GetAtt'],
  ].flatMap(([tag = '', key = '']) =>
    ['scalar', 'sequence', 'mapping'].map(
      (kind) =>
        new yaml.Type(tag, {
          kind,
          construct: (data) => ({
            [key]: key === 'Fn::GetAtt' && typeof data === 'string' ? data.split('.', 2) : data,
          }),
        }),
    ),
  ),
);

export interface Parameter {
  Type: string;
  Description?: string;
  Default?: string;
  AllowedPattern?: string;
}

export interface StackTemplate extends Template {
  AWSTemplateFormatVersion?: string;
  Parameters: Record<string, Parameter>;
}

/** A plain CloudFormation template in YAML, short forms included. */
export const loadYamlTemplate = async (path: string): Promise<StackTemplate> =>
  yaml.load(await readFile(path, 'utf8'), { schema: SCHEMA, filename: path }) as StackTemplate;

const isObject = (value: Json): value is { [key: string]: Json } =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The template with each parameter's `Ref` replaced by its value (given, else its default) and
 * each Fn::Join over literals joined, so that conditions can be evaluated as CloudFormation would
 * (`effectiveTemplate`). A CommaDelimitedList becomes a list, as CloudFormation splits it.
 * Pseudo parameters and Fn::Sub are left as they are.
 */
export const withParameters = (
  template: StackTemplate,
  given: Record<string, string>,
): StackTemplate => {
  const values = new Map<string, Json>();
  for (const [name, parameter] of Object.entries(template.Parameters)) {
    const value = given[name] ?? parameter.Default;
    if (value === undefined) throw new Error(`parameter ${name} has no default: give a value`);
    values.set(name, parameter.Type === 'CommaDelimitedList' ? value.split(',') : value);
  }
  for (const name of Object.keys(given)) {
    if (!values.has(name)) throw new Error(`template has no parameter ${name}`);
  }
  const resolve = (node: Json): Json => {
    if (Array.isArray(node)) return node.map(resolve);
    if (!isObject(node)) return node;
    const ref = node.Ref;
    if (typeof ref === 'string' && values.has(ref)) return values.get(ref) ?? null;
    const join = node['Fn::Join'];
    if (Array.isArray(join)) {
      const [separator, items] = join.map(resolve);
      if (
        typeof separator === 'string' &&
        Array.isArray(items) &&
        items.every((i) => !isObject(i))
      ) {
        return items.join(separator);
      }
    }
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, resolve(value)]));
  };
  return resolve(template as unknown as Json) as unknown as StackTemplate;
};
