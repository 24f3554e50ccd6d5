/**
 * Options over defaults, where an option given as `undefined` keeps the default (a plain spread would
 * replace it with `undefined`).
 *
 * @example
 * const o = withDefaults({ retries: 5 }, { retries: undefined }); // { retries: 5 }
 */
export function withDefaults<D extends object, O extends object>(defaults: D, options: O): D & O {
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  return { ...defaults, ...defined } as D & O;
}
