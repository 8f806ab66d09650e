// Compiled ajv validators for the policy contracts, built once from the JSON Schemas in schemas/,
// and the one place that turns ajv errors into PolicyProblems (file + JSON pointer + message).

import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsPlugin from 'ajv-formats';
import approvalSchema from '../schemas/approval.schema.json' with { type: 'json' };
import manifestSchema from '../schemas/bundle-manifest.schema.json' with { type: 'json' };
import decisionSchema from '../schemas/decision.schema.json' with { type: 'json' };
import grantSchema from '../schemas/grant.schema.json' with { type: 'json' };
import dataSchema from '../schemas/policy-data.schema.json' with { type: 'json' };
import inputSchema from '../schemas/policy-input.schema.json' with { type: 'json' };
import type {
  Approval,
  BundleManifest,
  Canaries,
  Decision,
  Grant,
  PolicyInput,
  PolicyProblem,
} from './contracts.js';

export interface PolicyValidators {
  readonly decision: ValidateFunction<Decision>;
  readonly input: ValidateFunction<PolicyInput>;
  readonly grant: ValidateFunction<Grant>;
  readonly approval: ValidateFunction<Approval>;
  readonly data: ValidateFunction<Record<string, unknown>>;
  readonly manifest: ValidateFunction<BundleManifest>;
  readonly canaries: ValidateFunction<Canaries>;
}

let cached: PolicyValidators | undefined;

/** The validators, compiled on first use and shared (ajv compilation costs milliseconds). */
export function policyValidators(): PolicyValidators {
  if (cached !== undefined) return cached;
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, allowUnionTypes: true });
  // ajv-formats is CommonJS: its default export is the plugin, which also carries itself as .default.
  addFormatsPlugin.default(ajv);
  for (const schema of [inputSchema, grantSchema, approvalSchema, manifestSchema, dataSchema]) {
    ajv.addSchema(schema);
  }
  const get = <T>(ref: string): ValidateFunction<T> => {
    const validate = ajv.getSchema<T>(ref);
    if (validate === undefined) throw new Error(`schema ${ref} did not compile`);
    return validate;
  };
  cached = {
    decision: ajv.compile<Decision>(decisionSchema),
    input: get<PolicyInput>(inputSchema.$id),
    grant: get<Grant>(grantSchema.$id),
    approval: get<Approval>(approvalSchema.$id),
    data: get<Record<string, unknown>>(dataSchema.$id),
    manifest: get<BundleManifest>(manifestSchema.$id),
    canaries: get<Canaries>(`${manifestSchema.$id}#/definitions/canaries`),
  };
  return cached;
}

/** Every ajv error of one validation as a problem of `file`, most specific first. */
export function toProblems(
  file: string,
  errors: readonly ErrorObject[] | null | undefined,
): PolicyProblem[] {
  if (!errors || errors.length === 0) return [{ file, pointer: '', message: 'is invalid' }];
  return errors.map((e) => ({ file, pointer: e.instancePath, message: describeError(e) }));
}

function describeError(e: ErrorObject): string {
  switch (e.keyword) {
    case 'additionalProperties':
      return `has unknown property "${String(e.params.additionalProperty)}"`;
    case 'enum':
      return `must be one of ${JSON.stringify(e.params.allowedValues)}`;
    case 'const':
      return `must be ${JSON.stringify(e.params.allowedValue)}`;
    default:
      return e.message ?? `fails ${e.keyword}`;
  }
}

/** A short one-line summary of ajv errors, for fail-closed decision messages. */
export function summarizeErrors(errors: readonly ErrorObject[] | null | undefined): string {
  if (!errors || errors.length === 0) return 'invalid';
  return errors
    .slice(0, 3)
    .map((e) => `${e.instancePath || '/'} ${describeError(e)}`)
    .join('; ');
}
