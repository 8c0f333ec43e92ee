import { invalidParameterValue, missingParameter } from './errors.js';

/**
 * Typed reads of an awsQuery form body (`Action=...&Version=...&Name=value`). Values are validated
 * the way the service does it: a bad one is a 400 `InvalidParameterValue` naming the parameter.
 */
export class QueryParams {
  constructor(private readonly form: URLSearchParams) {}

  static parse(body: string): QueryParams {
    return new QueryParams(new URLSearchParams(body));
  }

  optionalString(name: string): string | undefined {
    const value = this.form.get(name);
    return value === null || value === '' ? undefined : value;
  }

  requiredString(name: string): string {
    const value = this.optionalString(name);
    if (value === undefined) throw missingParameter(name);
    return value;
  }

  optionalBoolean(name: string): boolean | undefined {
    const value = this.optionalString(name);
    if (value === undefined) return undefined;
    if (value === 'true' || value === 'false') return value === 'true';
    throw invalidParameterValue(name, value, 'expected true or false');
  }

  optionalInteger(name: string, min: number, max: number): number | undefined {
    const value = this.optionalString(name);
    if (value === undefined) return undefined;
    const n = Number(value);
    if (Number.isInteger(n) && n >= min && n <= max) return n;
    throw invalidParameterValue(name, value, `expected an integer from ${min} to ${max}`);
  }

  optionalEnum<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const value = this.optionalString(name);
    if (value === undefined) return undefined;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    throw invalidParameterValue(name, value, `expected one of ${allowed.join(', ')}`);
  }
}
