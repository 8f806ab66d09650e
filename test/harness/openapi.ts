// Checks API answers against the OpenAPI document the API publishes: each response body must match the
// schema documented for its path, method, status and content type (JSON Schema 2020-12, as OAS 3.1).

import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsPlugin from 'ajv-formats';

const DOC_ID = 'urn:pgward:openapi';
const pointer = (parts: readonly string[]) =>
  parts.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');

export interface ResponseValidator {
  /** Validates one answer; returns the schema errors as text, or [] when it matches. */
  check(path: string, method: string, status: number, contentType: string, body: unknown): string[];
}

export function openApiValidator(document: Readonly<Record<string, unknown>>): ResponseValidator {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormatsPlugin.default(ajv);
  ajv.addSchema({ ...document, $id: DOC_ID });
  const compiled = new Map<string, ValidateFunction>();
  return {
    check(path, method, status, contentType, body) {
      const type = contentType.split(';')[0]!.trim();
      const ref = `${DOC_ID}#/${pointer(['paths', path, method, 'responses', String(status), 'content', type, 'schema'])}`;
      let validate = compiled.get(ref);
      if (validate === undefined) {
        validate = ajv.compile({ $ref: ref });
        compiled.set(ref, validate);
      }
      return validate(body)
        ? []
        : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? e.keyword}`);
    },
  };
}
