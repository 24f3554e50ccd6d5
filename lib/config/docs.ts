// Renders the configuration reference (a Markdown list, wrapped to fit a 100-column terminal) from the
// zod schema, so the README cannot drift from what the code accepts.
import { z } from 'zod';
import { configSchema } from './schema.ts';

interface JsonSchemaNode {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonSchemaNode>;
  required?: string[];
  items?: JsonSchemaNode;
  anyOf?: JsonSchemaNode[];
  pattern?: string;
}

const WIDTH = 100;

function typeOf(node: JsonSchemaNode): string {
  if (node.enum) return node.enum.map((v) => `\`${String(v)}\``).join(' | ');
  if (node.anyOf) return [...new Set(node.anyOf.map(typeOf))].join(' | ');
  if (node.type === 'array') return `${node.items ? typeOf(node.items) : 'any'}[]`;
  if (Array.isArray(node.type)) return node.type.join(' | ');
  return node.type ?? 'any';
}

/** A list item wrapped at the width, continuation lines indented under its text. */
function item(text: string): string {
  const lines: string[] = [];
  let line = '-';
  for (const word of text.split(' ')) {
    if (line.length + 1 + word.length > WIDTH && line.trim() !== '-') {
      lines.push(line);
      line = `  ${word}`;
    } else line += ` ${word}`;
  }
  lines.push(line);
  return lines.join('\n');
}

function rows(node: JsonSchemaNode, prefix: string, out: string[]): void {
  const required = new Set(node.required ?? []);
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const path = `${prefix}${name}`;
    const nested =
      child.type === 'object'
        ? child
        : child.type === 'array' && child.items?.type === 'object'
          ? child.items
          : undefined;
    const defaultText =
      child.default === undefined ||
      (typeof child.default === 'object' && child.default !== null && !Array.isArray(child.default))
        ? required.has(name) && child.default === undefined
          ? '**required**'
          : ''
        : `\`${JSON.stringify(child.default)}\``;
    const type = nested ? (child.type === 'array' ? 'object[]' : 'object') : typeOf(child);
    const facts = [
      type,
      defaultText === '**required**' ? defaultText : defaultText && `default ${defaultText}`,
    ]
      .filter(Boolean)
      .join(', ');
    out.push(item(`\`${path}\` (${facts}): ${child.description ?? ''}`.trim()));
    if (nested) rows(nested, child.type === 'array' ? `${path}[].` : `${path}.`, out);
  }
}

/**
 * The configuration reference as a Markdown list: every key, its type, default and description.
 *
 * @example
 * console.log(configReference());
 */
export function configReference(): string {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchemaNode;
  const out: string[] = [];
  rows(schema, '', out);
  return out.join('\n');
}
